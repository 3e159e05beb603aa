namespace TrtMLNet.Onnx;

/// <summary>onnx.proto's GraphProto. quantization_annotation is kept as bytes.</summary>
internal sealed class GraphProto : OnnxMessage<GraphProto>
{
    [Field(1)] public List<NodeProto> Nodes { get; } = [];
    [Field(2)] public string? Name { get; set; }
    [Field(5)] public List<TensorProto> Initializers { get; } = [];
    [Field(10)] public string? DocString { get; set; }
    [Field(11)] public List<ValueInfoProto> Inputs { get; } = [];
    [Field(12)] public List<ValueInfoProto> Outputs { get; } = [];
    [Field(13)] public List<ValueInfoProto> ValueInfo { get; } = [];
    [Field(15)] public List<SparseTensorProto> SparseInitializers { get; } = [];
    [Field(16)] public List<StringStringEntryProto> MetadataProps { get; } = [];
}
