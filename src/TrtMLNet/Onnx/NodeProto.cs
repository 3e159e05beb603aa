namespace TrtMLNet.Onnx;

/// <summary>onnx.proto's NodeProto. device_configurations is kept as bytes.</summary>
internal sealed class NodeProto : OnnxMessage
{
    private const int InputField = 1, OutputField = 2, NameField = 3, OpTypeField = 4, AttributeField = 5, DocStringField = 6,
        DomainField = 7, OverloadField = 8, MetadataPropsField = 9;

    private static readonly int[] s_fields =
        [InputField, OutputField, NameField, OpTypeField, AttributeField, DocStringField, DomainField, OverloadField, MetadataPropsField];

    /// <summary>Input tensor names; "" stands for an optional input left out.</summary>
    public List<string> Inputs { get; } = [];
    public List<string> Outputs { get; } = [];
    public string? Name { get; set; }
    public string? OpType { get; set; }
    public List<AttributeProto> Attributes { get; } = [];
    public string? DocString { get; set; }
    public string? Domain { get; set; }
    public string? Overload { get; set; }
    public List<StringStringEntryProto> MetadataProps { get; } = [];

    public AttributeProto? Attribute(string name) => Attributes.Find(a => a.Name == name);

    /// <summary>The op as "domain::OpType" for messages, or just OpType in the default domain.</summary>
    public string QualifiedOpType => Domain is null or "" or "ai.onnx" ? OpType ?? "" : $"{Domain}::{OpType}";

    /// <summary>The node for messages: its name, else its op and first output.</summary>
    public string Describe() => Name is { Length: > 0 } name ? $"node '{name}' ({QualifiedOpType})" : $"the {QualifiedOpType} node producing '{Outputs.FirstOrDefault()}'";

    protected override ReadOnlySpan<int> FieldNumbers => s_fields;

    protected override bool ReadField(in ProtoField field)
    {
        if (!field.IsLengthDelimited)
            return false;
        switch (field.Number)
        {
            case InputField: Inputs.Add(field.String); return true;
            case OutputField: Outputs.Add(field.String); return true;
            case NameField: Name = field.String; return true;
            case OpTypeField: OpType = field.String; return true;
            case AttributeField: Attributes.Add(field.Message<AttributeProto>()); return true;
            case DocStringField: DocString = field.String; return true;
            case DomainField: Domain = field.String; return true;
            case OverloadField: Overload = field.String; return true;
            case MetadataPropsField: MetadataProps.Add(field.Message<StringStringEntryProto>()); return true;
            default: return false;
        }
    }

    protected override void WriteField(ProtoWriter writer, int number, bool packed)
    {
        switch (number)
        {
            case InputField: writer.Strings(number, Inputs); break;
            case OutputField: writer.Strings(number, Outputs); break;
            case NameField: writer.String(number, Name); break;
            case OpTypeField: writer.String(number, OpType); break;
            case AttributeField: writer.Messages(number, Attributes); break;
            case DocStringField: writer.String(number, DocString); break;
            case DomainField: writer.String(number, Domain); break;
            case OverloadField: writer.String(number, Overload); break;
            case MetadataPropsField: writer.Messages(number, MetadataProps); break;
        }
    }
}
