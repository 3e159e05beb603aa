namespace TrtMLNet.Onnx;

/// <summary>onnx.proto's ModelProto. training_info and configuration are kept as bytes.</summary>
internal sealed class ModelProto : OnnxMessage<ModelProto>
{
    [Field(1)] public long? IrVersion { get; set; }
    [Field(2)] public string? ProducerName { get; set; }
    [Field(3)] public string? ProducerVersion { get; set; }
    [Field(4)] public string? Domain { get; set; }
    [Field(5)] public long? ModelVersion { get; set; }
    [Field(6)] public string? DocString { get; set; }
    [Field(7)] public GraphProto? Graph { get; set; }
    [Field(8)] public List<OperatorSetIdProto> OpsetImport { get; } = [];
    [Field(14)] public List<StringStringEntryProto> MetadataProps { get; } = [];
    [Field(25)] public List<FunctionProto> Functions { get; } = [];

    /// <summary>Reads a model; the result refers to <paramref name="bytes"/> for its weights, which must not change while it is in use.</summary>
    public static ModelProto Parse(byte[] bytes)
    {
        var model = new ModelProto();
        model.Read(bytes, 0, bytes.Length);
        return model;
    }

    /// <summary>
    /// <see cref="Parse(byte[])"/> for a model named <paramref name="source"/> in errors: bytes that are not
    /// protobuf, or a message with no graph, are an <see cref="InvalidDataException"/> that says so.
    /// </summary>
    public static ModelProto Parse(byte[] bytes, string source)
    {
        ModelProto model;
        try
        {
            model = Parse(bytes);
        }
        catch (Google.Protobuf.InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"{source} is not an ONNX model: its bytes are not a valid protobuf message ({e.Message}).", e);
        }
        return model.Graph is null ? throw new InvalidDataException($"{source} is not an ONNX model: it has no graph.") : model;
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
}
