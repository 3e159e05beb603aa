namespace TrtMLNet.Onnx;

/// <summary>onnx.proto's NodeProto. device_configurations is kept as bytes.</summary>
internal sealed class NodeProto : OnnxMessage<NodeProto>
{
    /// <summary>Input tensor names; "" stands for an optional input left out.</summary>
    [Field(1)] public List<string> Inputs { get; } = [];
    [Field(2)] public List<string> Outputs { get; } = [];
    [Field(3)] public string? Name { get; set; }
    [Field(4)] public string? OpType { get; set; }
    [Field(5)] public List<AttributeProto> Attributes { get; } = [];
    [Field(6)] public string? DocString { get; set; }
    [Field(7)] public string? Domain { get; set; }
    [Field(8)] public string? Overload { get; set; }
    [Field(9)] public List<StringStringEntryProto> MetadataProps { get; } = [];

    public AttributeProto? Attribute(string name) => Attributes.Find(a => a.Name == name);

    /// <summary>The op as "domain::OpType" for messages, or just OpType in the default domain.</summary>
    public string QualifiedOpType => Domain is null or "" or "ai.onnx" ? OpType ?? "" : $"{Domain}::{OpType}";

    /// <summary>The node for messages: its name, else its op and first output.</summary>
    public string Describe() => Name is { Length: > 0 } name ? $"node '{name}' ({QualifiedOpType})" : $"the {QualifiedOpType} node producing '{Outputs.FirstOrDefault()}'";
}
