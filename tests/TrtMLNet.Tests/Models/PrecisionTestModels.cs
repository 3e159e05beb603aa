namespace TrtMLNet.Tests.Models;

/// <summary>
/// Models for the precision rewrite: a small conv net (Conv, BatchNormalization, Relu, MaxPool, Resize with
/// scales, GlobalAveragePool, Gemm, Softmax) and an encoder with a LayerNormalization op, a decomposed one
/// (ReduceMean, Sub, Pow, Sqrt, Div) and a float32-min attention mask. Random weights, fixed seeds.
/// </summary>
public static class PrecisionTestModels
{
    public const int ImageSize = 16;
    public const int Classes = 10;

    /// <summary>Input "image" [N,3,16,16]; outputs "logits" and "probabilities" [N,10].</summary>
    public static OnnxModelBuilder ConvNet()
    {
        var random = new Random(31);
        return new OnnxModelBuilder(opset: 13)
            .Input("image", OnnxType.Float, "N", 3, ImageSize, ImageSize)
            .Initializer("conv1_w", Weights(random, 8 * 3 * 3 * 3, 0.4f), 8, 3, 3, 3)
            .Initializer("conv1_b", Weights(random, 8, 0.1f), 8)
            .Initializer("bn_scale", Positive(random, 8), 8)
            .Initializer("bn_bias", Weights(random, 8, 0.1f), 8)
            .Initializer("bn_mean", Weights(random, 8, 0.2f), 8)
            .Initializer("bn_var", Positive(random, 8), 8)
            .Initializer("conv2_w", Weights(random, 16 * 8 * 3 * 3, 0.2f), 16, 8, 3, 3)
            .Initializer("conv2_b", Weights(random, 16, 0.1f), 16)
            .Initializer("fc_w", Weights(random, Classes * 16, 0.5f), Classes, 16)
            .Initializer("fc_b", Weights(random, Classes, 0.1f), Classes)
            .Node("Conv", ["image", "conv1_w", "conv1_b"], ["c1"], ("kernel_shape", new long[] { 3, 3 }), ("pads", new long[] { 1, 1, 1, 1 }))
            .Node("BatchNormalization", ["c1", "bn_scale", "bn_bias", "bn_mean", "bn_var"], ["bn"], ("epsilon", 1e-5f))
            .Node("Relu", ["bn"], ["r1"])
            .Node("MaxPool", ["r1"], ["p1"], ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }))
            .Node("Constant", [], ["resize_scales"], ("value", OnnxTensor.Of([1f, 1f, 2f, 2f], 4)))
            .Node("Resize", ["p1", "", "resize_scales"], ["up"], ("mode", "linear"))
            .Node("Conv", ["up", "conv2_w", "conv2_b"], ["c2"], ("kernel_shape", new long[] { 3, 3 }), ("strides", new long[] { 2, 2 }), ("pads", new long[] { 1, 1, 1, 1 }))
            .Node("Relu", ["c2"], ["r2"])
            .Node("GlobalAveragePool", ["r2"], ["gap"])
            .Node("Flatten", ["gap"], ["flat"], ("axis", 1L))
            .Node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], ("transB", 1L))
            .Node("Softmax", ["logits"], ["probabilities"], ("axis", 1L))
            .Output("logits", OnnxType.Float, "N", Classes)
            .Output("probabilities", OnnxType.Float, "N", Classes);
    }

    /// <summary>
    /// Inputs input_ids and attention_mask int64 [batch, sequence]; outputs last_hidden_state [batch, sequence, 16]
    /// and pooled [batch, 16]. Opset 17 (LayerNormalization).
    /// </summary>
    public static OnnxModelBuilder LayerNormEncoder()
    {
        var random = new Random(17);
        const int h = TestModels.EncoderHidden;
        return new OnnxModelBuilder(opset: 17)
            .Input("input_ids", OnnxType.Int64, "batch", "sequence")
            .Input("attention_mask", OnnxType.Int64, "batch", "sequence")
            .Initializer("embedding", Weights(random, TestModels.EncoderVocabulary * h, 1f), TestModels.EncoderVocabulary, h)
            .Initializer("ln1_gamma", Positive(random, h), h)
            .Initializer("ln1_beta", Weights(random, h, 0.1f), h)
            .Initializer("wq", Weights(random, h * h, 0.3f), h, h)
            .Initializer("wk", Weights(random, h * h, 0.3f), h, h)
            .Initializer("wv", Weights(random, h * h, 0.3f), h, h)
            .Initializer("one", [1f], 1)
            .Initializer("lowest", [float.MinValue], 1)
            .Initializer("axis1", new long[] { 1 }, 1)
            .Initializer("two", [2f], 1)
            .Initializer("epsilon", [1e-12f], 1)
            .Initializer("ln2_gamma", Positive(random, h), h)
            .Initializer("ln2_beta", Weights(random, h, 0.1f), h)
            .Node("Gather", ["embedding", "input_ids"], ["embedded"], ("axis", 0L))
            .Node("LayerNormalization", ["embedded", "ln1_gamma", "ln1_beta"], ["x"], ("axis", -1L), ("epsilon", 1e-5f))
            .Node("MatMul", ["x", "wq"], ["q"])
            .Node("MatMul", ["x", "wk"], ["k"])
            .Node("MatMul", ["x", "wv"], ["v"])
            .Node("Transpose", ["k"], ["kt"], ("perm", new long[] { 0, 2, 1 }))
            .Node("MatMul", ["q", "kt"], ["raw_scores"])
            .Node("Constant", [], ["scale"], ("value", OnnxTensor.Of([0.25f])))
            .Node("Mul", ["raw_scores", "scale"], ["scores"])
            .Node("Cast", ["attention_mask"], ["mask_float"], ("to", (long)OnnxType.Float))
            .Node("Unsqueeze", ["mask_float", "axis1"], ["mask3"])
            .Node("Sub", ["one", "mask3"], ["masked"])
            .Node("Mul", ["masked", "lowest"], ["bias"])
            .Node("Add", ["scores", "bias"], ["biased"])
            .Node("Softmax", ["biased"], ["attention"], ("axis", -1L))
            .Node("MatMul", ["attention", "v"], ["context"])
            .Node("Add", ["context", "x"], ["residual"])
            // LayerNormalization written out, as exporters before opset 17 do.
            .Node("ReduceMean", ["residual"], ["mean"], ("axes", new long[] { -1 }))
            .Node("Sub", ["residual", "mean"], ["centered"])
            .Node("Pow", ["centered", "two"], ["squared"])
            .Node("ReduceMean", ["squared"], ["variance"], ("axes", new long[] { -1 }))
            .Node("Add", ["variance", "epsilon"], ["variance_eps"])
            .Node("Sqrt", ["variance_eps"], ["std"])
            .Node("Div", ["centered", "std"], ["normalized"])
            .Node("Mul", ["normalized", "ln2_gamma"], ["scaled"])
            .Node("Add", ["scaled", "ln2_beta"], ["last_hidden_state"])
            .Node("ReduceMean", ["last_hidden_state"], ["pooled"], ("axes", new long[] { 1 }), ("keepdims", 0L))
            .Output("last_hidden_state", OnnxType.Float, "batch", "sequence", h)
            .Output("pooled", OnnxType.Float, "batch", h);
    }

    public static float[] Weights(Random random, int count, float scale) =>
        Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1) * scale).ToArray();

    private static float[] Positive(Random random, int count) =>
        Enumerable.Range(0, count).Select(_ => (float)(0.5 + random.NextDouble())).ToArray();
}
