namespace TrtMLNet.Onnx;

/// <summary>
/// Which inputs of an op may take float16 or bfloat16, by opset version, from the type constraints of
/// the ONNX operator specs (docs/Changelog.md of github.com/onnx/onnx at f754691, read by tools/onnx_type_support.py). For
/// every op version where an input accepts float but not the reduced type: either that input alone has
/// the type (its own constraint, or a fixed tensor(float)), and it stays float32 while the node is
/// converted, or the type is shared with other inputs (a constraint T), and the node stays float32.
/// Example: Conv takes bfloat16 from opset 22 only; Resize's scales are tensor(float) in every opset.
/// Ops not listed accept both types in every version, or are outside the default domain.
/// </summary>
internal static class ReducedTypeSupport
{
    /// <summary>What a converted node must do for the model's opset.</summary>
    public readonly record struct Verdict(bool Block, IReadOnlySet<int> Float32Inputs)
    {
        public static readonly Verdict Accepts = new(false, new HashSet<int>());
    }

    // op -> "version:float16/bfloat16 ...", from the version on: "" all inputs take the type, "b" the node
    // stays float32, "1,2" those inputs stay float32.
    private static readonly Dictionary<string, string> s_table = new(StringComparer.Ordinal)
    {
        ["Abs"] = "1:/b 13:/",
        ["Acos"] = "7:/b 22:/",
        ["Acosh"] = "9:/b 22:/",
        ["Add"] = "1:/b 13:/",
        ["ArgMax"] = "1:/0 13:/",
        ["ArgMin"] = "1:/0 13:/",
        ["Asin"] = "7:/b 22:/",
        ["Asinh"] = "9:/b 22:/",
        ["Atan"] = "7:/b 22:/",
        ["Atanh"] = "9:/b 22:/",
        ["AveragePool"] = "1:/b 22:/",
        ["BatchNormalization"] = "1:/b 14:/",
        ["Bernoulli"] = "15:/0 22:/",
        ["Cast"] = "1:/0 13:/",
        ["Ceil"] = "1:/b 13:/",
        ["Celu"] = "12:b/b 28:/",
        ["Clip"] = "1:/b 13:/",
        ["Compress"] = "9:/b",
        ["Concat"] = "1:/b 13:/",
        ["Conv"] = "1:/b 22:/",
        ["ConvTranspose"] = "1:/b 22:/",
        ["Cos"] = "7:/b 22:/",
        ["Cosh"] = "9:/b 22:/",
        ["CumSum"] = "11:b/b 14:/",
        ["DeformConv"] = "19:/b 22:/",
        ["DepthToSpace"] = "1:/b 13:/",
        ["DequantizeLinear"] = "10:1/1 19:/",
        ["Det"] = "11:/b 22:/",
        ["Div"] = "1:/b 13:/",
        ["Dropout"] = "1:/b 13:/1 22:/",
        ["DynamicQuantizeLinear"] = "11:0/0",
        ["Einsum"] = "12:/b",
        ["Elu"] = "1:/b 22:/",
        ["Equal"] = "1:/ 11:/b 13:/",
        ["Erf"] = "9:/b 13:/",
        ["Exp"] = "1:/b 13:/",
        ["Expand"] = "8:/b 13:/",
        ["EyeLike"] = "9:/0 22:/",
        ["Flatten"] = "1:/b 13:/",
        ["Floor"] = "1:/b 13:/",
        ["GRU"] = "1:/b 22:/",
        ["Gather"] = "1:/b 13:/",
        ["GatherElements"] = "11:/b 13:/",
        ["GatherND"] = "11:/b 13:/",
        ["Gemm"] = "1:/b 13:/",
        ["GlobalAveragePool"] = "1:/b 22:/",
        ["GlobalLpPool"] = "1:/b 22:/",
        ["GlobalMaxPool"] = "1:/b 22:/",
        ["Greater"] = "1:/b 13:/",
        ["GreaterOrEqual"] = "12:/b 16:/",
        ["GridSample"] = "16:/b 22:/",
        ["HardSigmoid"] = "1:/b 22:/",
        ["HardSwish"] = "14:/b 22:/",
        ["Hardmax"] = "1:/b 13:/",
        ["Identity"] = "1:/b 13:/",
        ["InstanceNormalization"] = "1:/b 22:/",
        ["IsInf"] = "10:0/0 20:/",
        ["IsNaN"] = "9:/0 13:/",
        ["LRN"] = "1:/b 13:/",
        ["LSTM"] = "1:/b 22:/",
        ["LeakyRelu"] = "1:/b 16:/",
        ["Less"] = "1:/b 13:/",
        ["LessOrEqual"] = "12:/b 16:/",
        ["Log"] = "1:/b 13:/",
        ["LogSoftmax"] = "1:/b 13:/",
        ["Loop"] = "1:/b 16:/",
        ["LpNormalization"] = "1:/b 22:/",
        ["LpPool"] = "1:/b 22:/",
        ["MatMul"] = "1:/b 13:/",
        ["Max"] = "1:/b 13:/",
        ["MaxPool"] = "1:/b 22:/",
        ["MaxRoiPool"] = "1:/b 22:/",
        ["MaxUnpool"] = "9:/b 22:/",
        ["Mean"] = "1:/b 13:/",
        ["MeanVarianceNormalization"] = "9:/b 13:/",
        ["Min"] = "1:/b 13:/",
        ["Mish"] = "18:/b 22:/",
        ["Mod"] = "10:/b 13:/",
        ["Mul"] = "1:/b 13:/",
        ["Multinomial"] = "7:/0 22:/",
        ["Neg"] = "1:/b 13:/",
        ["NegativeLogLikelihoodLoss"] = "12:/b 22:/",
        ["NonMaxSuppression"] = "10:0,1,3,4/0,1,3,4",
        ["NonZero"] = "9:/0 13:/",
        ["OneHot"] = "9:/b",
        ["Optional"] = "15:/0",
        ["OptionalGetElement"] = "15:/ 18:/0",
        ["OptionalHasElement"] = "15:/ 18:/0",
        ["PRelu"] = "1:/b 16:/",
        ["Pad"] = "1:/b 13:/",
        ["Pow"] = "1:/b 13:/1 15:/",
        ["QLinearConv"] = "10:1,4,6/1,4,6",
        ["QLinearMatMul"] = "10:1,4,6/1,4,6 21:/",
        ["QuantizeLinear"] = "10:0,1/0,1 19:/",
        ["RNN"] = "1:/b 22:/",
        ["RandomNormalLike"] = "1:/0 22:/",
        ["RandomUniformLike"] = "1:/0 22:/",
        ["Range"] = "11:b/b 27:/",
        ["Reciprocal"] = "1:/b 13:/",
        ["ReduceL1"] = "1:/b 13:/",
        ["ReduceL2"] = "1:/b 13:/",
        ["ReduceLogSum"] = "1:/b 13:/",
        ["ReduceLogSumExp"] = "1:/b 13:/",
        ["ReduceMax"] = "1:/b 13:/",
        ["ReduceMean"] = "1:/b 13:/",
        ["ReduceMin"] = "1:/b 13:/",
        ["ReduceProd"] = "1:/b 13:/",
        ["ReduceSum"] = "1:/b 13:/",
        ["ReduceSumSquare"] = "1:/b 13:/",
        ["Relu"] = "1:/b 13:/",
        ["Reshape"] = "1:/b 13:/",
        ["Resize"] = "10:1/b 11:2/b 13:2/1,2",
        ["ReverseSequence"] = "10:/b",
        ["RoiAlign"] = "10:/b 22:/",
        ["Round"] = "11:/b 22:/",
        ["Scan"] = "8:/b 16:/",
        ["Scatter"] = "9:/b 11:/",
        ["ScatterElements"] = "11:/b 13:/",
        ["ScatterND"] = "11:/b 13:/",
        ["Selu"] = "1:/b 22:/",
        ["SequenceConstruct"] = "11:/b",
        ["SequenceInsert"] = "11:/1",
        ["SequenceMap"] = "17:/b",
        ["Shape"] = "1:/0 13:/",
        ["Shrink"] = "9:/b",
        ["Sigmoid"] = "1:/b 13:/",
        ["Sign"] = "9:/b 13:/",
        ["Sin"] = "7:/b 22:/",
        ["Sinh"] = "9:/b 22:/",
        ["Size"] = "1:/0 13:/",
        ["Slice"] = "1:/b 13:/",
        ["Softmax"] = "1:/b 13:/",
        ["SoftmaxCrossEntropyLoss"] = "12:/b 13:/",
        ["Softplus"] = "1:/b 22:/",
        ["Softsign"] = "1:/b 22:/",
        ["SpaceToDepth"] = "1:/b 13:/",
        ["Split"] = "1:/b 13:/",
        ["SplitToSequence"] = "11:/0 24:/",
        ["Sqrt"] = "1:/b 13:/",
        ["Squeeze"] = "1:/b 13:/",
        ["Sub"] = "1:/b 13:/",
        ["Sum"] = "1:/b 13:/",
        ["Tan"] = "7:/b 22:/",
        ["Tanh"] = "1:/b 13:/",
        ["ThresholdedRelu"] = "10:/b 22:/",
        ["Tile"] = "1:/b 13:/",
        ["TopK"] = "1:/b 24:/",
        ["Transpose"] = "1:/b 13:/",
        ["Unique"] = "11:/b",
        ["Unsqueeze"] = "1:/b 13:/",
        ["Upsample"] = "1:/b 9:1/b 10:/",
        ["Where"] = "9:/b 16:/",
    };

    private static readonly Dictionary<string, (long Since, Verdict Float16, Verdict BFloat16)[]> s_parsed =
        s_table.ToDictionary(p => p.Key, p => p.Value.Split(' ').Select(Parse).ToArray(), StringComparer.Ordinal);

    /// <summary>The verdict for a default-domain node at the model's opset (the newest rules when the model states none).</summary>
    public static Verdict For(NodeProto node, long? opset, ReducedPrecision target)
    {
        if (!s_parsed.TryGetValue(node.OpType ?? "", out var versions))
            return Verdict.Accepts;
        var effective = opset is { } version ? versions.LastOrDefault(v => v.Since <= version) : versions[^1];
        if (effective == default)
            return Verdict.Accepts; // the op did not exist at this opset: the model is invalid anyway, and the runtime will say so
        return target == ReducedPrecision.Float16 ? effective.Float16 : effective.BFloat16;
    }

    private static (long, Verdict, Verdict) Parse(string entry)
    {
        var colon = entry.IndexOf(':');
        var kinds = entry[(colon + 1)..].Split('/');
        return (long.Parse(entry[..colon]), ParseVerdict(kinds[0]), ParseVerdict(kinds[1]));
    }

    private static Verdict ParseVerdict(string text) => text switch
    {
        "" => Verdict.Accepts,
        "b" => new Verdict(true, new HashSet<int>()),
        _ => new Verdict(false, text.Split(',').Select(int.Parse).ToHashSet()),
    };
}
