namespace TrtMLNet.Onnx;

/// <summary>onnx.proto's AttributeProto, every field decoded.</summary>
internal sealed class AttributeProto : OnnxMessage<AttributeProto>
{
    /// <summary>AttributeProto.AttributeType.</summary>
    public const int FloatType = 1, IntType = 2, StringType = 3, TensorType = 4, GraphType = 5, FloatsType = 6, IntsType = 7, GraphsType = 10;

    [Field(1)] public string? Name { get; set; }
    [Field(21)] public string? RefAttrName { get; set; }
    [Field(13)] public string? DocString { get; set; }
    [Field(20)] public int? Type { get; set; }
    [Field(2)] public float? F { get; set; }
    [Field(3)] public long? I { get; set; }
    [Field(4)] public ReadOnlyMemory<byte>? S { get; set; }
    [Field(5)] public TensorProto? T { get; set; }
    [Field(6)] public GraphProto? G { get; set; }
    [Field(22)] public SparseTensorProto? SparseTensor { get; set; }
    [Field(14)] public TypeProto? Tp { get; set; }
    [Field(7)] public List<float> Floats { get; } = [];
    [Field(8)] public List<long> Ints { get; } = [];
    [Field(9)] public List<ReadOnlyMemory<byte>> Strings { get; } = [];
    [Field(10)] public List<TensorProto> Tensors { get; } = [];
    [Field(11)] public List<GraphProto> Graphs { get; } = [];
    [Field(23)] public List<SparseTensorProto> SparseTensors { get; } = [];
    [Field(15)] public List<TypeProto> TypeProtos { get; } = [];

    /// <summary>The graphs this attribute holds (a branch or body of If, Loop, Scan, ...).</summary>
    public IEnumerable<GraphProto> Subgraphs => G is null ? Graphs : Graphs.Prepend(G);

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = IntType, I = value };

    public static AttributeProto Tensor(string name, TensorProto value) => new() { Name = name, Type = TensorType, T = value };
}
