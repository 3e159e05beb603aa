namespace TrtMLNet.Onnx;

/// <summary>onnx.proto's ModelProto. training_info and configuration are kept as bytes.</summary>
internal sealed class ModelProto : OnnxMessage
{
    private const int IrVersionField = 1, ProducerNameField = 2, ProducerVersionField = 3, DomainField = 4, ModelVersionField = 5,
        DocStringField = 6, GraphField = 7, OpsetImportField = 8, MetadataPropsField = 14, FunctionsField = 25;

    private static readonly int[] s_fields =
        [IrVersionField, ProducerNameField, ProducerVersionField, DomainField, ModelVersionField, DocStringField, GraphField, OpsetImportField, MetadataPropsField, FunctionsField];

    public long? IrVersion { get; set; }
    public string? ProducerName { get; set; }
    public string? ProducerVersion { get; set; }
    public string? Domain { get; set; }
    public long? ModelVersion { get; set; }
    public string? DocString { get; set; }
    public GraphProto? Graph { get; set; }
    public List<OperatorSetIdProto> OpsetImport { get; } = [];
    public List<StringStringEntryProto> MetadataProps { get; } = [];
    public List<FunctionProto> Functions { get; } = [];

    /// <summary>Reads a model; the result refers to <paramref name="bytes"/> for its weights, which must not change while it is in use.</summary>
    public static ModelProto Parse(byte[] bytes)
    {
        var model = new ModelProto();
        model.Read(bytes, 0, bytes.Length);
        return model;
    }

    public byte[] ToBytes() => ProtoWriter.Serialize(this);

    /// <summary>The opset version the model imports for <paramref name="domain"/> ("" and "ai.onnx" are the default domain); null when it imports none.</summary>
    public long? OpsetVersion(string domain)
    {
        var isDefault = domain is "" or "ai.onnx";
        foreach (var opset in OpsetImport)
        {
            var opsetDomain = opset.Domain ?? "";
            if (isDefault ? opsetDomain is "" or "ai.onnx" : opsetDomain == domain)
                return opset.Version;
        }
        return null;
    }

    protected override ReadOnlySpan<int> FieldNumbers => s_fields;

    protected override bool ReadField(in ProtoField field)
    {
        switch (field.Number)
        {
            case IrVersionField when field.IsVarint: IrVersion = field.Int64; return true;
            case ProducerNameField when field.IsLengthDelimited: ProducerName = field.String; return true;
            case ProducerVersionField when field.IsLengthDelimited: ProducerVersion = field.String; return true;
            case DomainField when field.IsLengthDelimited: Domain = field.String; return true;
            case ModelVersionField when field.IsVarint: ModelVersion = field.Int64; return true;
            case DocStringField when field.IsLengthDelimited: DocString = field.String; return true;
            case GraphField when field.IsLengthDelimited: Graph = field.Message<GraphProto>(); return true;
            case OpsetImportField when field.IsLengthDelimited: OpsetImport.Add(field.Message<OperatorSetIdProto>()); return true;
            case MetadataPropsField when field.IsLengthDelimited: MetadataProps.Add(field.Message<StringStringEntryProto>()); return true;
            case FunctionsField when field.IsLengthDelimited: Functions.Add(field.Message<FunctionProto>()); return true;
            default: return false;
        }
    }

    protected override void WriteField(ProtoWriter writer, int number, bool packed)
    {
        switch (number)
        {
            case IrVersionField: writer.Int64(number, IrVersion); break;
            case ProducerNameField: writer.String(number, ProducerName); break;
            case ProducerVersionField: writer.String(number, ProducerVersion); break;
            case DomainField: writer.String(number, Domain); break;
            case ModelVersionField: writer.Int64(number, ModelVersion); break;
            case DocStringField: writer.String(number, DocString); break;
            case GraphField: writer.Message(number, Graph); break;
            case OpsetImportField: writer.Messages(number, OpsetImport); break;
            case MetadataPropsField: writer.Messages(number, MetadataProps); break;
            case FunctionsField: writer.Messages(number, Functions); break;
        }
    }
}
