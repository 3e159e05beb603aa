namespace TrtMLNet.Onnx;

/// <summary>onnx.proto's AttributeProto, every field decoded.</summary>
internal sealed class AttributeProto : OnnxMessage
{
    private const int NameField = 1, FField = 2, IField = 3, SField = 4, TField = 5, GField = 6, FloatsField = 7, IntsField = 8,
        StringsField = 9, TensorsField = 10, GraphsField = 11, DocStringField = 13, TpField = 14, TypeProtosField = 15,
        TypeField = 20, RefAttrNameField = 21, SparseTensorField = 22, SparseTensorsField = 23;

    private static readonly int[] s_fields =
    [
        NameField, FField, IField, SField, TField, GField, FloatsField, IntsField, StringsField, TensorsField, GraphsField,
        DocStringField, TpField, TypeProtosField, TypeField, RefAttrNameField, SparseTensorField, SparseTensorsField,
    ];

    /// <summary>AttributeProto.AttributeType.</summary>
    public const int FloatType = 1, IntType = 2, StringType = 3, TensorType = 4, GraphType = 5, FloatsType = 6, IntsType = 7, GraphsType = 10;

    public string? Name { get; set; }
    public string? RefAttrName { get; set; }
    public string? DocString { get; set; }
    public int? Type { get; set; }
    public float? F { get; set; }
    public long? I { get; set; }
    public ReadOnlyMemory<byte>? S { get; set; }
    public TensorProto? T { get; set; }
    public GraphProto? G { get; set; }
    public SparseTensorProto? SparseTensor { get; set; }
    public TypeProto? Tp { get; set; }
    public List<float> Floats { get; } = [];
    public List<long> Ints { get; } = [];
    public List<ReadOnlyMemory<byte>> Strings { get; } = [];
    public List<TensorProto> Tensors { get; } = [];
    public List<GraphProto> Graphs { get; } = [];
    public List<SparseTensorProto> SparseTensors { get; } = [];
    public List<TypeProto> TypeProtos { get; } = [];

    /// <summary>The graphs this attribute holds (a branch or body of If, Loop, Scan, ...).</summary>
    public IEnumerable<GraphProto> Subgraphs => G is null ? Graphs : Graphs.Prepend(G);

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = IntType, I = value };

    public static AttributeProto Tensor(string name, TensorProto value) => new() { Name = name, Type = TensorType, T = value };

    protected override ReadOnlySpan<int> FieldNumbers => s_fields;

    protected override bool ReadField(in ProtoField field)
    {
        switch (field.Number)
        {
            case NameField when field.IsLengthDelimited: Name = field.String; return true;
            case FField when field.IsFixed32: F = field.Float; return true;
            case IField when field.IsVarint: I = field.Int64; return true;
            case SField when field.IsLengthDelimited: S = field.Bytes; return true;
            case TField when field.IsLengthDelimited: T = field.Message<TensorProto>(); return true;
            case GField when field.IsLengthDelimited: G = field.Message<GraphProto>(); return true;
            case FloatsField when field.IsFixed32 || field.IsLengthDelimited: field.AddTo(Floats); return true;
            case IntsField when field.IsVarint || field.IsLengthDelimited: field.AddTo(Ints); return true;
            case StringsField when field.IsLengthDelimited: Strings.Add(field.Bytes); return true;
            case TensorsField when field.IsLengthDelimited: Tensors.Add(field.Message<TensorProto>()); return true;
            case GraphsField when field.IsLengthDelimited: Graphs.Add(field.Message<GraphProto>()); return true;
            case DocStringField when field.IsLengthDelimited: DocString = field.String; return true;
            case TpField when field.IsLengthDelimited: Tp = field.Message<TypeProto>(); return true;
            case TypeProtosField when field.IsLengthDelimited: TypeProtos.Add(field.Message<TypeProto>()); return true;
            case TypeField when field.IsVarint: Type = field.Int32; return true;
            case RefAttrNameField when field.IsLengthDelimited: RefAttrName = field.String; return true;
            case SparseTensorField when field.IsLengthDelimited: SparseTensor = field.Message<SparseTensorProto>(); return true;
            case SparseTensorsField when field.IsLengthDelimited: SparseTensors.Add(field.Message<SparseTensorProto>()); return true;
            default: return false;
        }
    }

    protected override void WriteField(ProtoWriter writer, int number, bool packed)
    {
        switch (number)
        {
            case NameField: writer.String(number, Name); break;
            case FField: writer.Float(number, F); break;
            case IField: writer.Int64(number, I); break;
            case SField: writer.Bytes(number, S); break;
            case TField: writer.Message(number, T); break;
            case GField: writer.Message(number, G); break;
            case FloatsField: writer.Floats(number, Floats, packed); break;
            case IntsField: writer.Int64s(number, Ints, packed); break;
            case StringsField: writer.Bytes(number, Strings); break;
            case TensorsField: writer.Messages(number, Tensors); break;
            case GraphsField: writer.Messages(number, Graphs); break;
            case DocStringField: writer.String(number, DocString); break;
            case TpField: writer.Message(number, Tp); break;
            case TypeProtosField: writer.Messages(number, TypeProtos); break;
            case TypeField: writer.Int32(number, Type); break;
            case RefAttrNameField: writer.String(number, RefAttrName); break;
            case SparseTensorField: writer.Message(number, SparseTensor); break;
            case SparseTensorsField: writer.Messages(number, SparseTensors); break;
        }
    }
}
