namespace TrtMLNet.Onnx;

/// <summary>onnx.proto's ValueInfoProto: a named value and its type.</summary>
internal sealed class ValueInfoProto : OnnxMessage<ValueInfoProto>
{
    [Field(1)] public string? Name { get; set; }
    [Field(2)] public TypeProto? Type { get; set; }
    [Field(3)] public string? DocString { get; set; }
    [Field(4)] public List<StringStringEntryProto> MetadataProps { get; } = [];

    /// <summary>The element type of a tensor value, or of the tensors in a sequence or optional; Undefined when not stated.</summary>
    public OnnxDataType ElementType => Type?.ElementType ?? OnnxDataType.Undefined;
}
