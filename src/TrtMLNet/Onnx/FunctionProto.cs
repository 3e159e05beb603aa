namespace TrtMLNet.Onnx;

/// <summary>onnx.proto's FunctionProto: a model-local function, called by nodes whose domain and op type are its own.</summary>
internal sealed class FunctionProto : OnnxMessage
{
    private const int NameField = 1, InputField = 4, OutputField = 5, AttributeField = 6, NodeField = 7, DocStringField = 8,
        OpsetImportField = 9, DomainField = 10, AttributeProtoField = 11, ValueInfoField = 12, OverloadField = 13, MetadataPropsField = 14;

    private static readonly int[] s_fields =
    [
        NameField, InputField, OutputField, AttributeField, NodeField, DocStringField, OpsetImportField, DomainField,
        AttributeProtoField, ValueInfoField, OverloadField, MetadataPropsField,
    ];

    public string? Name { get; set; }
    public List<string> Inputs { get; } = [];
    public List<string> Outputs { get; } = [];
    public List<string> Attributes { get; } = [];
    public List<NodeProto> Nodes { get; } = [];
    public string? DocString { get; set; }
    public List<OperatorSetIdProto> OpsetImport { get; } = [];
    public string? Domain { get; set; }
    public List<AttributeProto> AttributeProtos { get; } = [];
    public List<ValueInfoProto> ValueInfo { get; } = [];
    public string? Overload { get; set; }
    public List<StringStringEntryProto> MetadataProps { get; } = [];

    protected override ReadOnlySpan<int> FieldNumbers => s_fields;

    protected override bool ReadField(in ProtoField field)
    {
        if (!field.IsLengthDelimited)
            return false;
        switch (field.Number)
        {
            case NameField: Name = field.String; return true;
            case InputField: Inputs.Add(field.String); return true;
            case OutputField: Outputs.Add(field.String); return true;
            case AttributeField: Attributes.Add(field.String); return true;
            case NodeField: Nodes.Add(field.Message<NodeProto>()); return true;
            case DocStringField: DocString = field.String; return true;
            case OpsetImportField: OpsetImport.Add(field.Message<OperatorSetIdProto>()); return true;
            case DomainField: Domain = field.String; return true;
            case AttributeProtoField: AttributeProtos.Add(field.Message<AttributeProto>()); return true;
            case ValueInfoField: ValueInfo.Add(field.Message<ValueInfoProto>()); return true;
            case OverloadField: Overload = field.String; return true;
            case MetadataPropsField: MetadataProps.Add(field.Message<StringStringEntryProto>()); return true;
            default: return false;
        }
    }

    protected override void WriteField(ProtoWriter writer, int number, bool packed)
    {
        switch (number)
        {
            case NameField: writer.String(number, Name); break;
            case InputField: writer.Strings(number, Inputs); break;
            case OutputField: writer.Strings(number, Outputs); break;
            case AttributeField: writer.Strings(number, Attributes); break;
            case NodeField: writer.Messages(number, Nodes); break;
            case DocStringField: writer.String(number, DocString); break;
            case OpsetImportField: writer.Messages(number, OpsetImport); break;
            case DomainField: writer.String(number, Domain); break;
            case AttributeProtoField: writer.Messages(number, AttributeProtos); break;
            case ValueInfoField: writer.Messages(number, ValueInfo); break;
            case OverloadField: writer.String(number, Overload); break;
            case MetadataPropsField: writer.Messages(number, MetadataProps); break;
        }
    }
}
