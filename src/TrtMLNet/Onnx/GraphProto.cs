namespace TrtMLNet.Onnx;

/// <summary>onnx.proto's GraphProto. quantization_annotation is kept as bytes.</summary>
internal sealed class GraphProto : OnnxMessage
{
    private const int NodeField = 1, NameField = 2, InitializerField = 5, DocStringField = 10, InputField = 11, OutputField = 12,
        ValueInfoField = 13, SparseInitializerField = 15, MetadataPropsField = 16;

    private static readonly int[] s_fields =
        [NodeField, NameField, InitializerField, DocStringField, InputField, OutputField, ValueInfoField, SparseInitializerField, MetadataPropsField];

    public List<NodeProto> Nodes { get; } = [];
    public string? Name { get; set; }
    public List<TensorProto> Initializers { get; } = [];
    public string? DocString { get; set; }
    public List<ValueInfoProto> Inputs { get; } = [];
    public List<ValueInfoProto> Outputs { get; } = [];
    public List<ValueInfoProto> ValueInfo { get; } = [];
    public List<SparseTensorProto> SparseInitializers { get; } = [];
    public List<StringStringEntryProto> MetadataProps { get; } = [];

    protected override ReadOnlySpan<int> FieldNumbers => s_fields;

    protected override bool ReadField(in ProtoField field)
    {
        if (!field.IsLengthDelimited)
            return false;
        switch (field.Number)
        {
            case NodeField: Nodes.Add(field.Message<NodeProto>()); return true;
            case NameField: Name = field.String; return true;
            case InitializerField: Initializers.Add(field.Message<TensorProto>()); return true;
            case DocStringField: DocString = field.String; return true;
            case InputField: Inputs.Add(field.Message<ValueInfoProto>()); return true;
            case OutputField: Outputs.Add(field.Message<ValueInfoProto>()); return true;
            case ValueInfoField: ValueInfo.Add(field.Message<ValueInfoProto>()); return true;
            case SparseInitializerField: SparseInitializers.Add(field.Message<SparseTensorProto>()); return true;
            case MetadataPropsField: MetadataProps.Add(field.Message<StringStringEntryProto>()); return true;
            default: return false;
        }
    }

    protected override void WriteField(ProtoWriter writer, int number, bool packed)
    {
        switch (number)
        {
            case NodeField: writer.Messages(number, Nodes); break;
            case NameField: writer.String(number, Name); break;
            case InitializerField: writer.Messages(number, Initializers); break;
            case DocStringField: writer.String(number, DocString); break;
            case InputField: writer.Messages(number, Inputs); break;
            case OutputField: writer.Messages(number, Outputs); break;
            case ValueInfoField: writer.Messages(number, ValueInfo); break;
            case SparseInitializerField: writer.Messages(number, SparseInitializers); break;
            case MetadataPropsField: writer.Messages(number, MetadataProps); break;
        }
    }
}
