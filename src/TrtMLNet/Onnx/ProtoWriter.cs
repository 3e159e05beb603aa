using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Google.Protobuf;

namespace TrtMLNet.Onnx;

/// <summary>
/// Writes protobuf fields into an array of the message's exact size. A message is written in two
/// passes, as protobuf's own serializers do: a counting pass (no buffer) that records every message's
/// size, then the writing pass, which needs each sub-message's size before its bytes.
/// </summary>
internal sealed class ProtoWriter
{
    private readonly byte[]? _buffer;
    private long _position;

    private ProtoWriter(byte[]? buffer) => _buffer = buffer;

    /// <summary>Bytes written (or counted) so far.</summary>
    public long Position => _position;

    public bool IsCounting => _buffer is null;

    public static ProtoWriter Counter() => new(null);

    public static byte[] Serialize(OnnxMessage message)
    {
        var size = message.Measure();
        var writer = new ProtoWriter(new byte[size]);
        message.WriteFields(writer);
        if (writer._position != size)
            throw new InvalidOperationException($"ONNX writer: wrote {writer._position} bytes of a message measured at {size}.");
        return writer._buffer!;
    }

    public void Raw(ReadOnlySpan<byte> bytes)
    {
        if (_buffer is not null)
            bytes.CopyTo(_buffer.AsSpan(checked((int)_position)));
        _position += bytes.Length;
    }

    public void Tag(int number, WireFormat.WireType wire) => Varint(WireFormat.MakeTag(number, wire));

    public void Varint(ulong value)
    {
        if (_buffer is null)
        {
            _position += CodedOutputStream.ComputeRawVarint64Size(value);
            return;
        }
        while (value >= 0x80)
        {
            _buffer[_position++] = (byte)(value | 0x80);
            value >>= 7;
        }
        _buffer[_position++] = (byte)value;
    }

    private void Fixed32(uint value)
    {
        if (_buffer is not null)
            BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan((int)_position), value);
        _position += 4;
    }

    private void Fixed64(ulong value)
    {
        if (_buffer is not null)
            BinaryPrimitives.WriteUInt64LittleEndian(_buffer.AsSpan((int)_position), value);
        _position += 8;
    }

    // Optional fields: written when present (proto2 keeps presence, so a value equal to the default is still written).

    public void Int64(int number, long? value)
    {
        if (value is not { } v) return;
        Tag(number, WireFormat.WireType.Varint);
        Varint((ulong)v);
    }

    /// <summary>int32 and enums: negative values are sign-extended to ten bytes, as protobuf does.</summary>
    public void Int32(int number, int? value) => Int64(number, value);

    public void Float(int number, float? value)
    {
        if (value is not { } v) return;
        Tag(number, WireFormat.WireType.Fixed32);
        Fixed32(BitConverter.SingleToUInt32Bits(v));
    }

    public void String(int number, string? value)
    {
        if (value is null) return;
        Tag(number, WireFormat.WireType.LengthDelimited);
        var length = Encoding.UTF8.GetByteCount(value);
        Varint((ulong)length);
        if (_buffer is not null)
            Encoding.UTF8.GetBytes(value, _buffer.AsSpan((int)_position, length));
        _position += length;
    }

    public void Bytes(int number, ReadOnlyMemory<byte>? value)
    {
        if (value is { } v)
            LengthDelimited(number, v.Span);
    }

    private void LengthDelimited(int number, ReadOnlySpan<byte> bytes)
    {
        Tag(number, WireFormat.WireType.LengthDelimited);
        Varint((ulong)bytes.Length);
        Raw(bytes);
    }

    public void Message(int number, OnnxMessage? message)
    {
        if (message is null) return;
        Tag(number, WireFormat.WireType.LengthDelimited);
        if (_buffer is null)
        {
            var size = message.Measure();
            Varint((ulong)size);
            _position += size;
            return;
        }
        Varint((ulong)message.MeasuredSize);
        message.WriteFields(this);
    }

    // Repeated fields.

    public void Messages<T>(int number, List<T> messages) where T : OnnxMessage
    {
        foreach (var message in messages)
            Message(number, message);
    }

    public void Strings(int number, List<string> values)
    {
        foreach (var value in values)
            String(number, value);
    }

    public void Bytes(int number, List<ReadOnlyMemory<byte>> values)
    {
        foreach (var value in values)
            Bytes(number, value);
    }

    public void Int64s(int number, List<long> values, bool packed) =>
        Repeated(number, values, packed, WireFormat.WireType.Varint, static v => CodedOutputStream.ComputeInt64Size(v), (w, v) => w.Varint((ulong)v));

    public void Int32s(int number, List<int> values, bool packed) =>
        Repeated(number, values, packed, WireFormat.WireType.Varint, static v => CodedOutputStream.ComputeInt32Size(v), (w, v) => w.Varint((ulong)(long)v));

    public void UInt64s(int number, List<ulong> values, bool packed) =>
        Repeated(number, values, packed, WireFormat.WireType.Varint, static v => CodedOutputStream.ComputeUInt64Size(v), (w, v) => w.Varint(v));

    public void Floats(int number, List<float> values, bool packed)
    {
        if (packed && values.Count > 0 && BitConverter.IsLittleEndian)
            LengthDelimited(number, MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(values))); // packed fixed32: the values are the wire bytes
        else
            Repeated(number, values, packed, WireFormat.WireType.Fixed32, static _ => 4, (w, v) => w.Fixed32(BitConverter.SingleToUInt32Bits(v)));
    }

    public void Doubles(int number, List<double> values, bool packed)
    {
        if (packed && values.Count > 0 && BitConverter.IsLittleEndian)
            LengthDelimited(number, MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(values)));
        else
            Repeated(number, values, packed, WireFormat.WireType.Fixed64, static _ => 8, (w, v) => w.Fixed64(BitConverter.DoubleToUInt64Bits(v)));
    }

    private void Repeated<T>(int number, List<T> values, bool packed, WireFormat.WireType wire, Func<T, int> size, Action<ProtoWriter, T> write)
    {
        if (values.Count == 0)
            return;
        if (!packed)
        {
            foreach (var value in values)
            {
                Tag(number, wire);
                write(this, value);
            }
            return;
        }
        Tag(number, WireFormat.WireType.LengthDelimited);
        long length = 0;
        foreach (var value in values)
            length += size(value);
        Varint((ulong)length);
        if (_buffer is null)
        {
            _position += length;
            return;
        }
        foreach (var value in values)
            write(this, value);
    }
}
