using Microsoft.ML.OnnxRuntime;

namespace BatchScoring;

/// <summary>One input or output tensor of the model: its name, element type and shape (-1 where open).</summary>
public sealed record TensorSignature(string Name, Type ElementType, int[] Dimensions)
{
    /// <summary>The shape of one row: every dimension after the batch.</summary>
    public int[] RowShape => Dimensions.Length == 0 ? [] : Dimensions[1..];

    /// <summary>Values per row, or null when a dimension after the batch is open.</summary>
    public int? RowSize => RowShape.All(d => d > 0) ? RowShape.Aggregate(1, (a, b) => a * b) : null;

    /// <summary>The batch size the model fixes, or null when its leading dimension is open.</summary>
    public int? FixedBatch => Dimensions.Length > 0 && Dimensions[0] > 0 ? Dimensions[0] : null;

    public string TypeName => ElementType == typeof(float) ? "float" : ElementType == typeof(double) ? "double"
        : ElementType == typeof(long) ? "int64" : ElementType == typeof(int) ? "int32"
        : ElementType == typeof(bool) ? "bool" : ElementType == typeof(byte) ? "uint8" : ElementType.Name;

    public override string ToString() => $"'{Name}' {TypeName} [{string.Join(",", Dimensions.Select(d => d > 0 ? d.ToString() : "?"))}]";
}

/// <summary>
/// The model's inputs and outputs, read with ONNX Runtime. The input mapping needs them before the
/// TensorRT estimator is fitted (fitting needs the columns the mapping makes), and TrtMLNet keeps its
/// own ONNX reader internal.
/// </summary>
public sealed record ModelSignature(IReadOnlyList<TensorSignature> Inputs, IReadOnlyList<TensorSignature> Outputs)
{
    public static ModelSignature Read(string modelPath)
    {
        // No graph optimisation: only the metadata is wanted, and optimising a large model takes seconds.
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        using var session = new InferenceSession(modelPath, options);
        return new ModelSignature(Describe(session.InputMetadata), Describe(session.OutputMetadata));
    }

    private static List<TensorSignature> Describe(IReadOnlyDictionary<string, NodeMetadata> metadata) =>
        metadata.Select(m => new TensorSignature(m.Key, m.Value.ElementType, m.Value.Dimensions.ToArray())).ToList();
}
