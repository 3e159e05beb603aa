using System.Runtime.InteropServices;
using System.Text;
using Google.Protobuf;

namespace TrtMLNet.Onnx;

/// <summary>
/// One field of a protobuf message as read from the wire: its number, its wire type and its value. A
/// length-delimited value stays where it is in the model's bytes (no copy); strings and sub-messages are
/// decoded from there when a message class asks for them.
/// </summary>
internal readonly struct ProtoField(int number, WireFormat.WireType wire, ulong scalar, byte[] buffer, int offset, int length)
{
    public int Number { get; } = number;

    public WireFormat.WireType Wire { get; } = wire;

    /// <summary>The value of a varint, fixed32 or fixed64 field, as its raw bits.</summary>
    public ulong Scalar { get; } = scalar;

    public bool IsVarint => Wire == WireFormat.WireType.Varint;

    public bool IsFixed32 => Wire == WireFormat.WireType.Fixed32;

    public bool IsLengthDelimited => Wire == WireFormat.WireType.LengthDelimited;

    public long Int64 => (long)Scalar;

    public int Int32 => (int)Scalar;

    public float Float => BitConverter.UInt32BitsToSingle((uint)Scalar);

    public ReadOnlyMemory<byte> Bytes => buffer.AsMemory(offset, length);

    public string String => Encoding.UTF8.GetString(buffer, offset, length);

    public T Message<T>() where T : OnnxMessage, new()
    {
        var message = new T();
        message.Read(buffer, offset, length);
        return message;
    }

    /// <summary>Reads the value of the field whose tag was just read; the stream is left after the field.</summary>
    public static ProtoField Read(CodedInputStream input, uint tag, byte[] buffer)
    {
        var number = WireFormat.GetTagFieldNumber(tag);
        var wire = WireFormat.GetTagWireType(tag);
        switch (wire)
        {
            case WireFormat.WireType.Varint:
                return new ProtoField(number, wire, input.ReadUInt64(), buffer, 0, 0);
            case WireFormat.WireType.Fixed32:
                return new ProtoField(number, wire, input.ReadFixed32(), buffer, 0, 0);
            case WireFormat.WireType.Fixed64:
                return new ProtoField(number, wire, input.ReadFixed64(), buffer, 0, 0);
            case WireFormat.WireType.LengthDelimited:
                // CodedInputStream copies what ReadBytes returns; skipping the field instead and taking the
                // payload's place from the positions keeps multi-megabyte weights where they are.
                var lengthAt = (int)input.Position;
                input.SkipLastField();
                var end = (int)input.Position;
                var length = (int)ReadVarint(buffer, lengthAt);
                return new ProtoField(number, wire, 0, buffer, end - length, length);
            default:
                input.SkipLastField(); // groups: no ONNX field is one; kept as unknown bytes by the caller
                return new ProtoField(number, wire, 0, buffer, 0, 0);
        }
    }

    public void AddTo(List<long> values) => AddPacked(values, static input => input.ReadInt64(), Int64);

    public void AddTo(List<int> values) => AddPacked(values, static input => input.ReadInt32(), Int32);

    public void AddTo(List<ulong> values) => AddPacked(values, static input => input.ReadUInt64(), Scalar);

    public void AddTo(List<float> values)
    {
        if (IsLengthDelimited && BitConverter.IsLittleEndian)
            values.AddRange(MemoryMarshal.Cast<byte, float>(Bytes.Span)); // packed fixed32: the wire bytes are the values
        else
            AddPacked(values, static input => input.ReadFloat(), Float);
    }

    public void AddTo(List<double> values)
    {
        if (IsLengthDelimited && BitConverter.IsLittleEndian)
            values.AddRange(MemoryMarshal.Cast<byte, double>(Bytes.Span));
        else
            AddPacked(values, static input => input.ReadDouble(), BitConverter.UInt64BitsToDouble(Scalar));
    }

    /// <summary>A repeated scalar field: one value per field, or (packed) a run of values in one length-delimited field.</summary>
    private void AddPacked<T>(List<T> values, Func<CodedInputStream, T> read, T single)
    {
        if (!IsLengthDelimited)
        {
            values.Add(single);
            return;
        }
        var input = new CodedInputStream(buffer, offset, length);
        while (!input.IsAtEnd)
            values.Add(read(input));
    }

    private static ulong ReadVarint(byte[] buffer, int at)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = buffer[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
                return value;
        }
    }
}
