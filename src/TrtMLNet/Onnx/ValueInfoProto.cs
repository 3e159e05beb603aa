namespace TrtMLNet.Onnx;

/// <summary>onnx.proto's ValueInfoProto: a named value and its type.</summary>
internal sealed class ValueInfoProto : OnnxMessage
{
    private const int NameField = 1, TypeField = 2, DocStringField = 3, MetadataPropsField = 4;
    private static readonly int[] s_fields = [NameField, TypeField, DocStringField, MetadataPropsField];

    public string? Name { get; set; }
    public TypeProto? Type { get; set; }
    public string? DocString { get; set; }
    public List<StringStringEntryProto> MetadataProps { get; } = [];

    /// <summary>The element type of a tensor value, or of the tensors in a sequence or optional; Undefined when not stated.</summary>
    public OnnxDataType ElementType => Type?.ElementType ?? OnnxDataType.Undefined;

    protected override ReadOnlySpan<int> FieldNumbers => s_fields;

    protected override bool ReadField(in ProtoField field)
    {
        if (!field.IsLengthDelimited)
            return false;
        switch (field.Number)
        {
            case NameField: Name = field.String; return true;
            case TypeField: Type = field.Message<TypeProto>(); return true;
            case DocStringField: DocString = field.String; return true;
            case MetadataPropsField: MetadataProps.Add(field.Message<StringStringEntryProto>()); return true;
            default: return false;
        }
    }

    protected override void WriteField(ProtoWriter writer, int number, bool packed)
    {
        switch (number)
        {
            case NameField: writer.String(number, Name); break;
            case TypeField: writer.Message(number, Type); break;
            case DocStringField: writer.String(number, DocString); break;
            case MetadataPropsField: writer.Messages(number, MetadataProps); break;
        }
    }
}
