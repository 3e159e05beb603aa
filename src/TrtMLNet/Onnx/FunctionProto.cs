namespace TrtMLNet.Onnx;

/// <summary>onnx.proto's FunctionProto: a model-local function, called by nodes whose domain and op type are its own.</summary>
internal sealed class FunctionProto : OnnxMessage<FunctionProto>
{
    [Field(1)] public string? Name { get; set; }
    [Field(4)] public List<string> Inputs { get; } = [];
    [Field(5)] public List<string> Outputs { get; } = [];
    [Field(6)] public List<string> Attributes { get; } = [];
    [Field(7)] public List<NodeProto> Nodes { get; } = [];
    [Field(8)] public string? DocString { get; set; }
    [Field(9)] public List<OperatorSetIdProto> OpsetImport { get; } = [];
    [Field(10)] public string? Domain { get; set; }
    [Field(11)] public List<AttributeProto> AttributeProtos { get; } = [];
    [Field(12)] public List<ValueInfoProto> ValueInfo { get; } = [];
    [Field(13)] public string? Overload { get; set; }
    [Field(14)] public List<StringStringEntryProto> MetadataProps { get; } = [];
}
