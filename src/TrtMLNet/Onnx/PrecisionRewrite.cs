namespace TrtMLNet.Onnx;

/// <summary>
/// Rewrites a float32 ONNX model to float16 or bfloat16 so that an execution provider runs it in reduced
/// precision, with the graph's float32 inputs and outputs kept (casts at the edges), so the ML.NET columns
/// stay float in, float out. What is converted and what stays float32: <see cref="GraphConversion"/> and
/// <see cref="PrecisionRewriteOptions.DefaultBlockedOps"/>. The result depends only on the bytes and the
/// options (no clock, no hash order), so it can key a cache.
/// </summary>
internal static class PrecisionRewrite
{
    private const string OfflineHint =
        "Convert it offline instead (onnxconverter-common: float16.convert_float_to_float16(model, keep_io_types=True); " +
        "or onnxruntime.transformers.float16) and give TrtMLNet the converted model without asking for a precision rewrite.";

    /// <summary>Reads the model file and rewrites it; the file's size is checked before it is read.</summary>
    public static byte[] Rewrite(string path, PrecisionRewriteOptions options, out PrecisionRewriteReport report)
    {
        CheckSize(new FileInfo(path).Length, path, options);
        return Rewrite(File.ReadAllBytes(path), options, out report, path);
    }

    /// <summary>
    /// The model rewritten to <see cref="PrecisionRewriteOptions.Target"/>; the same array when nothing
    /// was converted (a model already in reduced precision, or whose float32 is all in blocked nodes).
    /// </summary>
    public static byte[] Rewrite(byte[] model, PrecisionRewriteOptions options, out PrecisionRewriteReport report, string source = "The ONNX model")
    {
        CheckSize(model.LongLength, source, options);
        var proto = ModelProto.Parse(model, source);
        report = Rewrite(proto, options, source);
        return report.Changed ? proto.ToBytes() : model;
    }

    /// <summary>
    /// Rewrites a parsed model in place (as <see cref="Rewrite(byte[], PrecisionRewriteOptions, out PrecisionRewriteReport, string)"/>,
    /// for a caller that edits it in other ways too and writes it once): <paramref name="modelBytes"/> is its
    /// size, checked against the one-message limit.
    /// </summary>
    public static PrecisionRewriteReport Rewrite(ModelProto proto, long modelBytes, PrecisionRewriteOptions options, string source)
    {
        CheckSize(modelBytes, source, options);
        return Rewrite(proto, options, source);
    }

    private static PrecisionRewriteReport Rewrite(ModelProto proto, PrecisionRewriteOptions options, string source)
    {
        if (ExternalTensor(proto) is { } external)
            throw new NotSupportedException(
                $"{source} keeps the data of tensor '{external.Name}' in an external file (external data), and the precision rewrite works on " +
                "a self-contained model. Export it without external data (torch.onnx.export(..., external_data=False), or " +
                "onnx.save_model(model, path, save_as_external_data=False); possible under 2 GiB). " + OfflineHint);
        if (options.Target == ReducedPrecision.BFloat16 && proto.OpsetVersion("") is { } opset and < 13)
            throw new NotSupportedException(
                $"{source} imports ONNX opset {opset}; bfloat16 needs opset 13 or later (Cast and most ops take bfloat16 from there). " +
                "Use Float16, or export the model again with opset 13 or later.");
        return new GraphConversion(proto, options).Run();
    }

    private static void CheckSize(long bytes, string source, PrecisionRewriteOptions options)
    {
        if (bytes > options.MaxModelBytes)
            throw new NotSupportedException(
                $"{source} is {bytes} bytes, over the {options.MaxModelBytes}-byte limit of one protobuf message (2 GiB): the precision rewrite " +
                "reads and writes the model as one message. " + OfflineHint + " Save the converted model with external data if it is still over 2 GiB.");
    }

    /// <summary>The first tensor, anywhere in the model, whose data is outside the file.</summary>
    private static TensorProto? ExternalTensor(ModelProto model) =>
        Tensors(model.Graph!).Concat(model.Functions.SelectMany(f => f.Nodes).SelectMany(AttributeTensors)).FirstOrDefault(t => t.IsExternal);

    private static IEnumerable<TensorProto> Tensors(GraphProto graph) =>
        graph.Initializers
            .Concat(graph.SparseInitializers.SelectMany(s => new[] { s.Values, s.Indices }).OfType<TensorProto>())
            .Concat(graph.Nodes.SelectMany(AttributeTensors));

    private static IEnumerable<TensorProto> AttributeTensors(NodeProto node) =>
        node.Attributes.SelectMany(a =>
            (a.T is null ? a.Tensors : a.Tensors.Prepend(a.T))
            .Concat(a.SparseTensor is { Values: { } values } ? [values] : [])
            .Concat(a.Subgraphs.SelectMany(Tensors)));
}
