namespace TrtMLNet.Onnx;

/// <summary>onnx.proto's OperatorSetIdProto: a domain ("" for the default one) and its opset version.</summary>
internal sealed class OperatorSetIdProto : OnnxMessage<OperatorSetIdProto>
{
    [Field(1)] public string? Domain { get; set; }
    [Field(2)] public long? Version { get; set; }
}

/// <summary>onnx.proto's StringStringEntryProto: metadata, external data locations.</summary>
internal sealed class StringStringEntryProto : OnnxMessage<StringStringEntryProto>
{
    [Field(1)] public string? Key { get; set; }
    [Field(2)] public string? Value { get; set; }
}

/// <summary>onnx.proto's SparseTensorProto: the non-zero values, their indices and the dense shape.</summary>
internal sealed class SparseTensorProto : OnnxMessage<SparseTensorProto>
{
    [Field(1)] public TensorProto? Values { get; set; }
    [Field(2)] public TensorProto? Indices { get; set; }
    [Field(3)] public List<long> Dims { get; } = [];
}
