namespace TrtMLNet.Tests.Models;

/// <summary>
/// The ONNX models the tests score, written once per test run into a temporary folder. Weights are
/// random with fixed seeds, so every run sees the same models.
/// </summary>
public static class TestModels
{
    private static readonly Lazy<string> s_folder = new(() =>
    {
        var folder = Path.Combine(Path.GetTempPath(), $"trtmlnet-tests-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        return folder;
    });

    private static readonly Lazy<string> s_mlp = new(() => Mlp().Save(Path.Combine(s_folder.Value, "mlp.onnx")));
    private static readonly Lazy<string> s_fixedMlp = new(() => Mlp(batch: 2).Save(Path.Combine(s_folder.Value, "mlp-batch2.onnx")));
    private static readonly Lazy<string> s_multiIo = new(() => MultiIo().Save(Path.Combine(s_folder.Value, "multi-io.onnx")));
    private static readonly Lazy<string> s_encoder = new(() => TinyEncoder().Save(Path.Combine(s_folder.Value, "tiny-encoder.onnx")));

    public static string Folder => s_folder.Value;

    /// <summary>20 features -> 64 hidden (ReLU) -> 3 classes: outputs "scores" and "probabilities"; input "features" [N,20].</summary>
    public static string MlpPath => s_mlp.Value;

    /// <summary>The same MLP with its batch fixed at 2 (inputs [2,20]), to test padding of the last batch.</summary>
    public static string FixedBatchMlpPath => s_fixedMlp.Value;

    /// <summary>
    /// Five inputs of five types (ids int64 [N,4], dense float [N,8], count int32 [N,1], flag bool [N,1],
    /// weights64 double [N,2]) and seven outputs of the same types.
    /// </summary>
    public static string MultiIoPath => s_multiIo.Value;

    /// <summary>A one-layer self-attention encoder: input_ids and attention_mask int64 [batch, sequence]; outputs last_hidden_state [batch, sequence, 16] and pooled [batch, 16].</summary>
    public static string TinyEncoderPath => s_encoder.Value;

    public const int MlpFeatures = 20;
    public const int EncoderHidden = 16;
    public const int EncoderVocabulary = 50;

    public static OnnxModelBuilder Mlp(object? batch = null)
    {
        var random = new Random(20);
        var n = batch ?? "N";
        return new OnnxModelBuilder()
            .Input("features", OnnxType.Float, n, MlpFeatures)
            .Initializer("w1", Weights(random, MlpFeatures * 64, 0.3f), MlpFeatures, 64)
            .Initializer("b1", Weights(random, 64, 0.1f), 64)
            .Initializer("w2", Weights(random, 64 * 3, 0.3f), 64, 3)
            .Initializer("b2", Weights(random, 3, 0.1f), 3)
            .Node("MatMul", ["features", "w1"], ["h0"])
            .Node("Add", ["h0", "b1"], ["h1"])
            .Node("Relu", ["h1"], ["h2"])
            .Node("MatMul", ["h2", "w2"], ["s0"])
            .Node("Add", ["s0", "b2"], ["scores"])
            .Node("Softmax", ["scores"], ["probabilities"], ("axis", 1L))
            .Output("scores", OnnxType.Float, n, 3)
            .Output("probabilities", OnnxType.Float, n, 3);
    }

    public static OnnxModelBuilder MultiIo()
    {
        var random = new Random(7);
        return new OnnxModelBuilder()
            .Input("ids", OnnxType.Int64, "N", 4)
            .Input("dense", OnnxType.Float, "N", 8)
            .Input("count", OnnxType.Int32, "N", 1)
            .Input("flag", OnnxType.Bool, "N", 1)
            .Input("weights64", OnnxType.Double, "N", 2)
            .Initializer("embedding", Weights(random, 10 * 5, 1f), 10, 5)
            .Initializer("w", Weights(random, 13 * 3, 0.5f), 13, 3)
            .Initializer("one", new long[] { 1 }, 1)
            .Initializer("five", new long[] { 5 }, 1)
            .Initializer("two", new double[] { 2.0 }, 1)
            .Node("Gather", ["embedding", "ids"], ["embedded"], ("axis", 0L))
            .Node("ReduceMean", ["embedded"], ["pooled"], ("axes", new long[] { 1 }), ("keepdims", 0L))
            .Node("Concat", ["pooled", "dense"], ["joined"], ("axis", 1L))
            .Node("MatMul", ["joined", "w"], ["logits"])
            .Node("Cast", ["count"], ["count_float"], ("to", (long)OnnxType.Float))
            .Node("Mul", ["logits", "count_float"], ["scaled"])
            .Node("Add", ["ids", "one"], ["ids_next"])
            .Node("Greater", ["ids", "five"], ["big_ids"])
            .Node("Not", ["flag"], ["not_flag"])
            .Node("Mul", ["weights64", "two"], ["double_out"])
            .Node("Add", ["count", "count"], ["count_twice"])
            .Output("logits", OnnxType.Float, "N", 3)
            .Output("scaled", OnnxType.Float, "N", 3)
            .Output("ids_next", OnnxType.Int64, "N", 4)
            .Output("big_ids", OnnxType.Bool, "N", 4)
            .Output("not_flag", OnnxType.Bool, "N", 1)
            .Output("double_out", OnnxType.Double, "N", 2)
            .Output("count_twice", OnnxType.Int32, "N", 1);
    }

    public static OnnxModelBuilder TinyEncoder()
    {
        var random = new Random(13);
        const int h = EncoderHidden;
        return new OnnxModelBuilder()
            .Input("input_ids", OnnxType.Int64, "batch", "sequence")
            .Input("attention_mask", OnnxType.Int64, "batch", "sequence")
            .Initializer("embedding", Weights(random, EncoderVocabulary * h, 1f), EncoderVocabulary, h)
            .Initializer("wq", Weights(random, h * h, 0.3f), h, h)
            .Initializer("wk", Weights(random, h * h, 0.3f), h, h)
            .Initializer("wv", Weights(random, h * h, 0.3f), h, h)
            .Initializer("scale", [0.25f], 1)
            .Initializer("one", [1f], 1)
            .Initializer("minus_big", [-10000f], 1)
            .Initializer("axis1", new long[] { 1 }, 1)
            .Node("Gather", ["embedding", "input_ids"], ["x"], ("axis", 0L))
            .Node("MatMul", ["x", "wq"], ["q"])
            .Node("MatMul", ["x", "wk"], ["k"])
            .Node("MatMul", ["x", "wv"], ["v"])
            .Node("Transpose", ["k"], ["kt"], ("perm", new long[] { 0, 2, 1 }))
            .Node("MatMul", ["q", "kt"], ["raw_scores"])
            .Node("Mul", ["raw_scores", "scale"], ["scores"])
            .Node("Cast", ["attention_mask"], ["mask_float"], ("to", (long)OnnxType.Float))
            .Node("Unsqueeze", ["mask_float", "axis1"], ["mask3"])
            .Node("Sub", ["one", "mask3"], ["masked"])
            .Node("Mul", ["masked", "minus_big"], ["bias"])
            .Node("Add", ["scores", "bias"], ["biased"])
            .Node("Softmax", ["biased"], ["attention"], ("axis", -1L))
            .Node("MatMul", ["attention", "v"], ["context"])
            .Node("Add", ["context", "x"], ["last_hidden_state"])
            .Node("ReduceMean", ["last_hidden_state"], ["pooled"], ("axes", new long[] { 1 }), ("keepdims", 0L))
            .Output("last_hidden_state", OnnxType.Float, "batch", "sequence", h)
            .Output("pooled", OnnxType.Float, "batch", h);
    }

    private static float[] Weights(Random random, int count, float scale) =>
        Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1) * scale).ToArray();
}
