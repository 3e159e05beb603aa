using Google.Protobuf;

namespace TrtMLNet.Onnx;

/// <summary>
/// A message of onnx.proto, read from and written to the protobuf wire format by hand (field numbers from
/// https://github.com/onnx/onnx/blob/main/onnx/onnx.proto). Each class decodes the fields TrtMLNet works
/// with, its properties marked <see cref="FieldAttribute"/>; every other field is kept as its bytes, tag included. The order of the fields as read is kept
/// too: writing an unchanged message gives back the bytes it was read from, whatever order the producer
/// wrote its fields in and whether it packed its repeated numbers or not.
/// </summary>
/// <remarks>
/// What a rewrite does not keep byte for byte: a repeated field whose values were split into several runs
/// between other fields is written as one run, and a non-repeated field written twice keeps its last
/// value (protobuf's own rule for reading it). Neither occurs in files written by protobuf libraries.
/// </remarks>
internal abstract class OnnxMessage
{
    // The fields as read, in order: a known field where its first value stood (with whether it was
    // packed), an unknown field as its bytes. Null for a message built in code.
    private List<Slot>? _layout;
    private int _measuredSize = -1;

    private readonly record struct Slot(int Number, bool Packed, ReadOnlyMemory<byte> Unknown);

    /// <summary>The numbers of the fields this class decodes, in ascending order: the order a new message is written in.</summary>
    protected abstract ReadOnlySpan<int> FieldNumbers { get; }

    /// <summary>Decodes a field this class knows into its property; false for a field it keeps as bytes.</summary>
    protected abstract bool ReadField(in ProtoField field);

    /// <summary>Writes every value of field <paramref name="number"/>, nothing if it has none.</summary>
    protected abstract void WriteField(ProtoWriter writer, int number, bool packed);

    /// <summary>Whether a repeated number field is packed when the message was not read from bytes (onnx.proto's [packed = true]).</summary>
    protected virtual bool PackedByDefault(int number) => false;

    /// <summary>Unknown fields kept, for tests and diagnostics.</summary>
    public int UnknownFieldCount => _layout?.Count(s => !s.Unknown.IsEmpty) ?? 0;

    internal void Read(byte[] buffer, int offset, int length)
    {
        _layout = [];
        var seen = new HashSet<int>();
        var input = new CodedInputStream(buffer, offset, length);
        while (true)
        {
            var start = (int)input.Position;
            var tag = input.ReadTag();
            if (tag == 0)
                break;
            var field = ProtoField.Read(input, tag, buffer);
            if (ReadField(field))
            {
                if (seen.Add(field.Number))
                    _layout.Add(new Slot(field.Number, field.IsLengthDelimited, default));
            }
            else
            {
                _layout.Add(new Slot(field.Number, false, buffer.AsMemory(start, (int)input.Position - start)));
            }
        }
    }

    /// <summary>Counts this message's bytes (and those of every message in it), remembering each size for <see cref="WriteFields"/>.</summary>
    internal int Measure()
    {
        var counter = ProtoWriter.Counter();
        WriteFields(counter);
        if (counter.Position > int.MaxValue)
            throw new InvalidDataException(
                $"An ONNX {GetType().Name} of {counter.Position} bytes is over protobuf's 2 GiB limit for one message; such a model must keep its weights in external data.");
        return _measuredSize = (int)counter.Position;
    }

    internal int MeasuredSize => _measuredSize >= 0 ? _measuredSize : throw new InvalidOperationException("ONNX writer: a message was written before it was measured.");

    internal void WriteFields(ProtoWriter writer)
    {
        var written = new HashSet<int>();
        if (_layout is not null)
        {
            foreach (var slot in _layout)
            {
                if (!slot.Unknown.IsEmpty)
                    writer.Raw(slot.Unknown.Span);
                else if (written.Add(slot.Number))
                    WriteField(writer, slot.Number, slot.Packed);
            }
        }
        foreach (var number in FieldNumbers)
        {
            if (!written.Contains(number))
                WriteField(writer, number, PackedByDefault(number));
        }
    }
}

/// <summary>
/// An <see cref="OnnxMessage"/> whose fields are its properties marked <see cref="FieldAttribute"/>: reading, writing
/// and packing all follow the one table built from them.
/// </summary>
internal abstract class OnnxMessage<TSelf> : OnnxMessage where TSelf : OnnxMessage<TSelf>
{
    // One per message class, built when the class is first used.
    private static readonly ProtoSchema<TSelf> s_schema = ProtoSchema<TSelf>.FromProperties();

    protected sealed override ReadOnlySpan<int> FieldNumbers => s_schema.Numbers;

    protected sealed override bool ReadField(in ProtoField field) => s_schema.Read((TSelf)this, field);

    protected sealed override void WriteField(ProtoWriter writer, int number, bool packed) => s_schema.Write((TSelf)this, writer, number, packed);

    protected sealed override bool PackedByDefault(int number) => s_schema.PackedByDefault(number);
}
