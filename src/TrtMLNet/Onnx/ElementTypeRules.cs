namespace TrtMLNet.Onnx;

/// <summary>
/// The element type of each output of an op, from the type constraints of the ONNX operator specs
/// (https://github.com/onnx/onnx/blob/main/docs/Operators.md): most ops keep the type of their first
/// input, some have a fixed type (Shape: int64, Equal: bool), some take it from an attribute (Cast's to).
/// This is the part of ONNX shape inference the precision rewrite needs, without a dependency on the
/// onnx library. An op not listed here is unknown: the rewrite leaves it in float32 and takes its output
/// types from the graph's value_info.
/// </summary>
internal static class ElementTypeRules
{
    private static readonly HashSet<string> s_sameAsFirstInput = new(StringComparer.Ordinal)
    {
        "Abs", "Acos", "Acosh", "Add", "AffineGrid", "Asin", "Asinh", "Atan", "Atanh", "Attention", "AveragePool", "BitShift",
        "BitwiseAnd", "BitwiseNot", "BitwiseOr", "BitwiseXor", "Celu", "CenterCropPad", "Ceil", "Clip", "Col2Im", "Compress",
        "Concat", "ConcatFromSequence", "Conv", "ConvTranspose", "Cos", "Cosh", "CumSum", "DFT", "DepthToSpace", "Det", "Div",
        "Einsum", "Elu", "Erf", "Exp", "Expand", "Flatten", "Floor", "GRU", "Gather", "GatherElements", "GatherND", "Gelu",
        "Gemm", "GlobalAveragePool", "GlobalLpPool", "GlobalMaxPool", "GridSample", "GroupNormalization", "HardSigmoid",
        "HardSwish", "Hardmax", "Identity", "InstanceNormalization", "LRN", "LSTM", "LeakyRelu", "Log", "LogSoftmax",
        "LpNormalization", "LpPool", "MatMul", "Max", "MaxRoiPool", "MaxUnpool", "Mean", "MeanVarianceNormalization", "Min",
        "Mish", "Mod", "Mul", "Neg", "NegativeLogLikelihoodLoss", "Optional", "OptionalGetElement", "PRelu", "Pad", "Pow",
        "RMSNormalization", "RNN", "Range", "Reciprocal", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp",
        "ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSum", "ReduceSumSquare", "Relu", "Reshape", "Resize",
        "ReverseSequence", "RoiAlign", "RotaryEmbedding", "Round", "STFT", "Scatter", "ScatterElements", "ScatterND", "Selu",
        "SequenceAt", "SequenceConstruct", "SequenceErase", "SequenceInsert", "Shrink", "Sigmoid", "Sign", "Sin", "Sinh",
        "Slice", "Softmax", "SoftmaxCrossEntropyLoss", "Softplus", "Softsign", "SpaceToDepth", "Split", "SplitToSequence",
        "Sqrt", "Squeeze", "Sub", "Sum", "Swish", "Tan", "Tanh", "ThresholdedRelu", "Tile", "Transpose", "Trilu", "Unsqueeze",
        "Upsample",
    };

    /// <summary>
    /// ONNX Runtime's contrib ops (com.microsoft) that keep their input's type and have float16 CUDA kernels,
    /// among them the transformer fusions ONNX Runtime's optimizer writes (onnxruntime.transformers: Attention,
    /// MultiHeadAttention, SkipLayerNormalization, EmbedLayerNormalization), whose outputs' types the
    /// rewrite cannot read from value_info because the optimizer does not always write it.
    /// </summary>
    private static readonly HashSet<string> s_microsoftSameAsFirstInput = new(StringComparer.Ordinal)
    {
        "Attention", "BiasAdd", "BiasGelu", "FastGelu", "FusedMatMul", "Gelu", "MultiHeadAttention", "QuickGelu",
        "SkipLayerNormalization",
    };

    private static readonly HashSet<string> s_int64 = new(StringComparer.Ordinal)
    {
        "ArgMax", "ArgMin", "NonMaxSuppression", "NonZero", "SequenceLength", "Shape", "Size",
    };

    private static readonly HashSet<string> s_bool = new(StringComparer.Ordinal)
    {
        "And", "Equal", "Greater", "GreaterOrEqual", "IsInf", "IsNaN", "Less", "LessOrEqual", "Not", "OptionalHasElement", "Or",
        "RegexFullMatch", "Xor",
    };

    /// <summary>The ops <see cref="OutputOfSpecialOp"/> knows.</summary>
    private static readonly HashSet<string> s_special = new(StringComparer.Ordinal)
    {
        "BatchNormalization", "BlackmanWindow", "Bernoulli", "Cast", "CastLike", "Constant", "ConstantOfShape", "ConvInteger",
        "DequantizeLinear", "Dropout", "DynamicQuantizeLinear", "EyeLike", "HammingWindow", "HannWindow", "ImageDecoder",
        "LayerNormalization", "MatMulInteger", "MaxPool", "MelWeightMatrix", "Multinomial", "OneHot", "QLinearConv",
        "QLinearMatMul", "QuantizeLinear", "RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike",
        "SequenceEmpty", "TfIdfVectorizer", "TopK", "Unique", "Where",
    };

    public static bool IsDefaultDomain(string? domain) => domain is null or "" or "ai.onnx";

    /// <summary>Whether the rules know the op (its outputs' types follow from its inputs and attributes).</summary>
    public static bool IsKnown(NodeProto node)
    {
        var op = node.OpType ?? "";
        if (node.Domain == "com.microsoft")
            return s_microsoftSameAsFirstInput.Contains(op) || op == "EmbedLayerNormalization";
        if (!IsDefaultDomain(node.Domain))
            return false;
        return s_sameAsFirstInput.Contains(op) || s_int64.Contains(op) || s_bool.Contains(op) || s_special.Contains(op) || op is "If" or "Loop" or "Scan";
    }

    /// <summary>
    /// The type of output <paramref name="output"/> of a known op other than If, Loop and Scan (whose types
    /// come from their bodies); null when the rules do not tell.
    /// </summary>
    public static OnnxDataType? OutputType(NodeProto node, int output, Func<int, OnnxDataType> inputType)
    {
        var op = node.OpType ?? "";
        if (node.Domain == "com.microsoft")
            return MicrosoftOutputType(op, output, inputType);
        if (node.Domain == "ai.onnx.ml")
            return MachineLearningOutputType(node, output, inputType);
        if (!IsDefaultDomain(node.Domain))
            return null;
        if (s_int64.Contains(op))
            return OnnxDataType.Int64;
        if (s_bool.Contains(op))
            return OnnxDataType.Bool;
        if (OutputOfSpecialOp(node, output, inputType) is { } special)
            return special;
        return s_sameAsFirstInput.Contains(op) ? inputType(0) : null;
    }

    private static OnnxDataType? MicrosoftOutputType(string op, int output, Func<int, OnnxDataType> inputType) => op switch
    {
        // Outputs 1 and 2 are the mean and inverse deviation, float32 whatever the input ("U" in its schema).
        "SkipLayerNormalization" when output is 1 or 2 => OnnxDataType.Float,
        // Its inputs start with the int32 token and segment ids: the outputs take the embeddings' type, but the mask index.
        "EmbedLayerNormalization" => output == 1 ? OnnxDataType.Int32 : inputType(2),
        // Output 3, the attention scores, has a type of its own ("QK" in its schema): left to value_info.
        "MultiHeadAttention" when output == 3 => null,
        _ when s_microsoftSameAsFirstInput.Contains(op) => inputType(0),
        _ => null,
    };

    /// <summary>Ops whose outputs differ in type from their first input, or whose type is an attribute.</summary>
    private static OnnxDataType? OutputOfSpecialOp(NodeProto node, int output, Func<int, OnnxDataType> inputType) => node.OpType switch
    {
        "Cast" => Attr(node, "to"),
        "CastLike" => inputType(1),
        "Constant" => ConstantType(node),
        "ConstantOfShape" => node.Attribute("value")?.T?.ElementType ?? OnnxDataType.Float,
        "EyeLike" or "RandomNormalLike" or "RandomUniformLike" or "Bernoulli" => Attr(node, "dtype") ?? inputType(0),
        "RandomNormal" or "RandomUniform" or "SequenceEmpty" => Attr(node, "dtype") ?? OnnxDataType.Float,
        "Multinomial" => Attr(node, "dtype") ?? OnnxDataType.Int32,
        "HannWindow" or "HammingWindow" or "BlackmanWindow" or "MelWeightMatrix" => Attr(node, "output_datatype") ?? OnnxDataType.Float,
        "Where" => inputType(1),
        "OneHot" => inputType(2),
        "TopK" or "MaxPool" => output == 0 ? inputType(0) : OnnxDataType.Int64,
        "Unique" => output == 0 ? inputType(0) : OnnxDataType.Int64,
        "Dropout" => output == 0 ? inputType(0) : OnnxDataType.Bool,
        // Mean and InvStdDev are in stash_type (float unless stated), whatever X is.
        "LayerNormalization" => output == 0 ? inputType(0) : Attr(node, "stash_type") ?? OnnxDataType.Float,
        // Training-mode outputs (running mean and variance) have the type of the mean input.
        "BatchNormalization" => output == 0 ? inputType(0) : inputType(3),
        "QuantizeLinear" => Attr(node, "output_dtype") ?? (node.Inputs.Count > 2 && node.Inputs[2] != "" ? inputType(2) : OnnxDataType.UInt8),
        "DequantizeLinear" => Attr(node, "output_dtype") ?? inputType(1),
        "DynamicQuantizeLinear" => output == 1 ? OnnxDataType.Float : OnnxDataType.UInt8,
        "QLinearConv" or "QLinearMatMul" => inputType(7),
        "MatMulInteger" or "ConvInteger" => OnnxDataType.Int32,
        "TfIdfVectorizer" => OnnxDataType.Float,
        "ImageDecoder" => OnnxDataType.UInt8,
        _ => null,
    };

    /// <summary>
    /// The ONNX-ML ops scikit-learn and ML.NET exports use most (onnx/docs/Operators-ml.md). They are kept
    /// in float32 (their specs take float or double), but the types of their outputs are needed to cast
    /// what they hand to converted ops.
    /// </summary>
    private static OnnxDataType? MachineLearningOutputType(NodeProto node, int output, Func<int, OnnxDataType> inputType) => node.OpType switch
    {
        "Scaler" or "Normalizer" or "LinearRegressor" or "TreeEnsembleRegressor" or "SVMRegressor" or "OneHotEncoder" or "FeatureVectorizer" => OnnxDataType.Float,
        "Binarizer" or "Imputer" or "ArrayFeatureExtractor" or "TreeEnsemble" => inputType(0),
        "LinearClassifier" or "TreeEnsembleClassifier" or "SVMClassifier" => output == 1 ? OnnxDataType.Float
            : node.Attribute("classlabels_strings") is not null ? OnnxDataType.String : OnnxDataType.Int64,
        "LabelEncoder" => node.Attribute("values_floats") is not null ? OnnxDataType.Float
            : node.Attribute("values_strings") is not null ? OnnxDataType.String
            : node.Attribute("values_int64s") is not null ? OnnxDataType.Int64 : null,
        _ => null,
    };

    /// <summary>An int attribute holding a data type; null when absent or 0 (not set).</summary>
    private static OnnxDataType? Attr(NodeProto node, string name) =>
        node.Attribute(name)?.I is { } value and not 0 ? (OnnxDataType)value : null;

    private static OnnxDataType? ConstantType(NodeProto node)
    {
        foreach (var attribute in node.Attributes)
        {
            switch (attribute.Name)
            {
                case "value": return attribute.T?.ElementType;
                case "sparse_value": return attribute.SparseTensor?.Values?.ElementType;
                case "value_float" or "value_floats": return OnnxDataType.Float;
                case "value_int" or "value_ints": return OnnxDataType.Int64;
                case "value_string" or "value_strings": return OnnxDataType.String;
            }
        }
        return null;
    }
}
