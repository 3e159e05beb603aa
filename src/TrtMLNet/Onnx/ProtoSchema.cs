using System.Reflection;
using Google.Protobuf;

namespace TrtMLNet.Onnx;

/// <summary>
/// Marks a property as field <paramref name="number"/> of its onnx.proto message. The property's type gives the field's
/// kind (see <see cref="FieldKinds{T}"/>): an optional field is a nullable property, null when absent; a repeated one, a List.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class FieldAttribute(int number) : Attribute
{
    public int Number => number;

    /// <summary>
    /// onnx.proto's [packed = true] on a repeated number: how a message built in code writes it (a message read
    /// from bytes writes it as it was read).
    /// </summary>
    public bool Packed { get; set; }
}

/// <summary>Decodes one value of a field into a message: sets the property, or adds to the list.</summary>
internal delegate void FieldReader<in T>(T message, in ProtoField field);

/// <summary>Writes every value of a field, nothing if it has none; <c>packed</c> matters to repeated numbers only.</summary>
internal delegate void FieldWriter<in T>(T message, ProtoWriter writer, int number, bool packed);

/// <summary>One field a message class decodes: its number, the wire type its values come in, and how they are read and written.</summary>
internal sealed record SchemaField<T>(int Number, WireFormat.WireType Wire, FieldReader<T> Read, FieldWriter<T> Write)
{
    /// <summary>A repeated number: its values may also come as one length-delimited run.</summary>
    public bool Packable { get; init; }

    /// <summary>Written packed in a message built in code.</summary>
    public bool PackedByDefault { get; init; }

    /// <summary>
    /// Whether a value as read is this field's: one in another wire type is not decoded but kept as unknown bytes,
    /// so that whatever a producer wrote there is written back as it was.
    /// </summary>
    public bool Accepts(in ProtoField field) => field.Wire == Wire || (Packable && field.IsLengthDelimited);
}

/// <summary>
/// The fields a message class decodes, as its <see cref="FieldAttribute"/> properties declare them; <see cref="OnnxMessage{TSelf}"/>
/// reads and writes through it.
/// </summary>
internal sealed class ProtoSchema<T> where T : OnnxMessage
{
    private readonly int[] _numbers;

    // Indexed by field number: onnx.proto's numbers are small, and a lookup runs for every field read.
    private readonly SchemaField<T>?[] _byNumber;

    private ProtoSchema(List<SchemaField<T>> fields)
    {
        _numbers = [.. fields.Select(f => f.Number).Order()];
        _byNumber = new SchemaField<T>?[_numbers.LastOrDefault() + 1];
        foreach (var field in fields)
        {
            if (_byNumber[field.Number] is not null)
                throw new InvalidOperationException($"{typeof(T).Name} declares field {field.Number} twice.");
            _byNumber[field.Number] = field;
        }
    }

    public static ProtoSchema<T> FromProperties() => new(
        [.. from property in typeof(T).GetProperties()
            let field = property.GetCustomAttribute<FieldAttribute>()
            where field is not null
            select FieldKinds<T>.Of(property, field)]);

    /// <summary>The numbers of the fields, in ascending order: the order a message built in code is written in.</summary>
    public ReadOnlySpan<int> Numbers => _numbers;

    /// <summary>Decodes <paramref name="field"/> into <paramref name="message"/>; false for a field kept as bytes.</summary>
    public bool Read(T message, in ProtoField field)
    {
        if (Find(field.Number) is not { } known || !known.Accepts(field))
            return false;
        known.Read(message, field);
        return true;
    }

    public void Write(T message, ProtoWriter writer, int number, bool packed) => Find(number)?.Write(message, writer, number, packed);

    public bool PackedByDefault(int number) => Find(number)?.PackedByDefault ?? false;

    private SchemaField<T>? Find(int number) => (uint)number < (uint)_byNumber.Length ? _byNumber[number] : null;
}
