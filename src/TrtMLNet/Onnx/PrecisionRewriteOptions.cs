namespace TrtMLNet.Onnx;

/// <summary>What <see cref="PrecisionRewrite"/> converts and what it leaves in float32.</summary>
internal sealed class PrecisionRewriteOptions
{
    /// <summary>The type float32 values become.</summary>
    public ReducedPrecision Target { get; init; } = ReducedPrecision.Float16;

    /// <summary>
    /// Keep the graph's float32 inputs and outputs float32 (a Cast after each input, one before each
    /// output), so the columns that feed and read the model do not change.
    /// </summary>
    public bool KeepIoTypes { get; init; } = true;

    /// <summary>More op types to keep in float32, on top of <see cref="DefaultBlockedOps"/> (matched in any domain).</summary>
    public IReadOnlyCollection<string> BlockedOps { get; init; } = [];

    /// <summary>Node names to keep in float32.</summary>
    public IReadOnlyCollection<string> BlockedNodes { get; init; } = [];

    /// <summary>
    /// The largest model the rewrite takes: protobuf's limit for one message (2 GiB). A test seam, so the
    /// error can be tested without a 2 GiB file.
    /// </summary>
    internal long MaxModelBytes { get; init; } = int.MaxValue;

    /// <summary>
    /// Ops kept in float32 whatever the options say, and why. Their reduced inputs are cast to float32 and
    /// their float32 outputs cast back. Besides these: every op of the ONNX-ML domain (ai.onnx.ml: trees,
    /// linear models, scalers, ZipMap... whose specs take float or double only), every op the rewrite does
    /// not know (other domains, model-local functions), every node with a subgraph (If, Loop, Scan: their
    /// bodies are left as they are and read float32 values from outside), every node whose op does not take
    /// the target type at the model's opset (<see cref="ReducedTypeSupport"/>: for bfloat16, Conv and the
    /// pools before opset 22, BatchNormalization before 14...), and every node that reads a weight beyond
    /// the target type's range.
    /// </summary>
    public static IReadOnlyDictionary<string, string> DefaultBlockedOps { get; } = new SortedDictionary<string, string>(StringComparer.Ordinal)
    {
        ["NonMaxSuppression"] = "its spec takes boxes and scores in float32 only",
        ["RoiAlign"] = "ROI coordinates are in pixels: half's 11-bit mantissa moves them by whole pixels beyond 2048",
        ["TopK"] = "half rounding makes near values equal and changes which indices are picked, and their order",
        ["Range"] = "the element count is computed from start, limit and delta: rounding them in half changes the output's shape",
        ["CumSum"] = "a running sum along an axis grows past half's range and precision",
        ["Upsample"] = "deprecated (opset 7-9); its scales are float32 by spec and its kernels are float32 in older runtimes",
        ["RandomNormal"] = "samples are drawn in float32; the output is cast",
        ["RandomUniform"] = "samples are drawn in float32; the output is cast",
        ["RandomNormalLike"] = "samples are drawn in float32; the output is cast",
        ["RandomUniformLike"] = "samples are drawn in float32; the output is cast",
        ["Bernoulli"] = "its probabilities stay float32; sampling in half rounds them",
        ["Multinomial"] = "its log-probabilities stay float32; sampling in half rounds them",
        ["QuantizeLinear"] = "quantization scales in half lose precision; quantized (QDQ) models are meant for INT8",
        ["DequantizeLinear"] = "quantization scales in half lose precision; quantized (QDQ) models are meant for INT8",
        ["DynamicQuantizeLinear"] = "its scale output is float32 by spec",
        ["DFT"] = "a transform sums many products: half loses the small terms",
        ["STFT"] = "a transform sums many products: half loses the small terms",
        ["MelWeightMatrix"] = "its output_datatype attribute sets the type; left as exported",
        ["HannWindow"] = "its output_datatype attribute sets the type; left as exported",
        ["HammingWindow"] = "its output_datatype attribute sets the type; left as exported",
        ["BlackmanWindow"] = "its output_datatype attribute sets the type; left as exported",
    };

    /// <summary>
    /// Inputs that stay float32 in ops that are converted, besides those <see cref="ReducedTypeSupport"/>
    /// finds in the specs (an input with its own type that does not take the reduced one, like Resize's
    /// scales): Resize's roi (T2, its own type; float16 is valid for it, but float32 is too and keeps the
    /// region exact) and Dropout's ratio (T1, its own type). Every other float input of a converted op
    /// takes the reduced type: that includes BatchNormalization's scale, B, mean and var (one type T with
    /// X up to opset 14; opset 15 allows them to differ, and the same type is still valid) and
    /// LayerNormalization's Scale and B (type T with X).
    /// </summary>
    internal static bool InputStaysFloat32(NodeProto node, int input) =>
        ElementTypeRules.IsDefaultDomain(node.Domain) && node.OpType switch
        {
            "Resize" => input is 1 or 2,
            "Dropout" => input == 1,
            _ => false,
        };

    /// <summary>
    /// Inputs read for their shape or type only (Shape, Size, EyeLike, CastLike's target) or converted
    /// anyway (Cast): they take the value in whatever type it has, so no cast is put in front of them.
    /// </summary>
    internal static bool InputTakesAnyType(NodeProto node, int input) =>
        ElementTypeRules.IsDefaultDomain(node.Domain) && node.OpType switch
        {
            "Shape" or "Size" or "Cast" or "EyeLike" or "OptionalHasElement" => input == 0,
            "CastLike" => input == 1,
            _ => false,
        };

    internal bool IsBlocked(NodeProto node) =>
        node.Domain == "ai.onnx.ml"
        || DefaultBlockedOps.ContainsKey(node.OpType ?? "")
        || BlockedOps.Contains(node.OpType ?? "")
        || (node.Name is { } name && BlockedNodes.Contains(name))
        || !ElementTypeRules.IsKnown(node)
        || node.Attributes.Any(a => a.Subgraphs.Any());
}
