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

    /// <summary>
    /// One BERT layer as Hugging Face exports it, small: input_ids and attention_mask int64 [batch, sequence];
    /// multi-head attention with shapes computed in the graph (Shape, Gather, Concat, Reshape, Transpose),
    /// the mask applied with Where and float32's lowest value, an Erf GELU, two LayerNormalizations and a
    /// Tanh pooler. Outputs last_hidden_state [batch, sequence, 16] and pooler_output [batch, 16]. Opset 17.
    /// </summary>
    public static OnnxModelBuilder BertLayer()
    {
        var random = new Random(23);
        const int h = TestModels.EncoderHidden, heads = 2, headSize = h / heads, ffn = 32;
        var builder = new OnnxModelBuilder(opset: 17)
            .Input("input_ids", OnnxType.Int64, "batch", "sequence")
            .Input("attention_mask", OnnxType.Int64, "batch", "sequence")
            .Initializer("embedding", Weights(random, TestModels.EncoderVocabulary * h, 1f), TestModels.EncoderVocabulary, h)
            .Initializer("zero", new long[] { 0 }, 1)
            .Initializer("index0", new long[] { 0 }, 1)
            .Initializer("index1", new long[] { 1 }, 1)
            .Initializer("head_dims", new long[] { heads, headSize }, 2)
            .Initializer("hidden_dim", new long[] { h }, 1)
            .Initializer("mask_axes", new long[] { 1, 2 }, 2);
        foreach (var name in new[] { "q", "k", "v", "o" })
            builder.Initializer($"w{name}", Weights(random, h * h, 0.3f), h, h).Initializer($"b{name}", Weights(random, h, 0.1f), h);
        builder
            .Initializer("w1", Weights(random, h * ffn, 0.3f), h, ffn).Initializer("b1", Weights(random, ffn, 0.1f), ffn)
            .Initializer("w2", Weights(random, ffn * h, 0.3f), ffn, h).Initializer("b2", Weights(random, h, 0.1f), h)
            .Initializer("wp", Weights(random, h * h, 0.3f), h, h).Initializer("bp", Weights(random, h, 0.1f), h)
            .Initializer("ln1_gamma", Positive(random, h), h).Initializer("ln1_beta", Weights(random, h, 0.1f), h)
            .Initializer("ln2_gamma", Positive(random, h), h).Initializer("ln2_beta", Weights(random, h, 0.1f), h)
            .Node("Gather", ["embedding", "input_ids"], ["x"], ("axis", 0L))
            .Node("Shape", ["x"], ["x_shape"])
            .Node("Gather", ["x_shape", "index0"], ["batch"], ("axis", 0L))
            .Node("Gather", ["x_shape", "index1"], ["sequence"], ("axis", 0L))
            .Node("Concat", ["batch", "sequence", "head_dims"], ["split_shape"], ("axis", 0L))
            .Node("Concat", ["batch", "sequence", "hidden_dim"], ["merged_shape"], ("axis", 0L));
        foreach (var (name, perm) in new[] { ("q", new long[] { 0, 2, 1, 3 }), ("k", new long[] { 0, 2, 3, 1 }), ("v", new long[] { 0, 2, 1, 3 }) })
        {
            builder.Node("MatMul", ["x", $"w{name}"], [$"{name}_mm"]).Node("Add", [$"{name}_mm", $"b{name}"], [$"{name}_lin"])
                .Node("Reshape", [$"{name}_lin", "split_shape"], [$"{name}_split"])
                .Node("Transpose", [$"{name}_split"], [$"{name}_heads"], ("perm", perm));
        }
        return builder
            .Node("MatMul", ["q_heads", "k_heads"], ["raw_scores"])
            .Node("Constant", [], ["sqrt_head"], ("value", OnnxTensor.Of([MathF.Sqrt(headSize)])))
            .Node("Div", ["raw_scores", "sqrt_head"], ["scores"])
            .Node("Equal", ["attention_mask", "zero"], ["padding"])
            .Node("Unsqueeze", ["padding", "mask_axes"], ["padding4"])
            .Node("Constant", [], ["lowest"], ("value", OnnxTensor.Of([float.MinValue])))
            .Node("Where", ["padding4", "lowest", "scores"], ["masked_scores"])
            .Node("Softmax", ["masked_scores"], ["attention"], ("axis", -1L))
            .Node("MatMul", ["attention", "v_heads"], ["context_heads"])
            .Node("Transpose", ["context_heads"], ["context_split"], ("perm", new long[] { 0, 2, 1, 3 }))
            .Node("Reshape", ["context_split", "merged_shape"], ["context"])
            .Node("MatMul", ["context", "wo"], ["o_mm"]).Node("Add", ["o_mm", "bo"], ["attended"])
            .Node("Add", ["attended", "x"], ["residual1"])
            .Node("LayerNormalization", ["residual1", "ln1_gamma", "ln1_beta"], ["h1"], ("axis", -1L), ("epsilon", 1e-12f))
            .Node("MatMul", ["h1", "w1"], ["f_mm"]).Node("Add", ["f_mm", "b1"], ["f"])
            .Node("Constant", [], ["sqrt2"], ("value", OnnxTensor.Of([MathF.Sqrt(2f)])))
            .Node("Div", ["f", "sqrt2"], ["f_scaled"]).Node("Erf", ["f_scaled"], ["f_erf"])
            .Node("Constant", [], ["one"], ("value", OnnxTensor.Of([1f])))
            .Node("Add", ["f_erf", "one"], ["f_erf1"]).Node("Mul", ["f", "f_erf1"], ["f_gelu2"])
            .Node("Constant", [], ["half"], ("value", OnnxTensor.Of([0.5f])))
            .Node("Mul", ["f_gelu2", "half"], ["gelu"])
            .Node("MatMul", ["gelu", "w2"], ["g_mm"]).Node("Add", ["g_mm", "b2"], ["ffn_out"])
            .Node("Add", ["ffn_out", "h1"], ["residual2"])
            .Node("LayerNormalization", ["residual2", "ln2_gamma", "ln2_beta"], ["last_hidden_state"], ("axis", -1L), ("epsilon", 1e-12f))
            .Node("Gather", ["last_hidden_state", "index0"], ["first_token3"], ("axis", 1L))
            .Node("Squeeze", ["first_token3", "index1"], ["first_token"])
            .Node("MatMul", ["first_token", "wp"], ["p_mm"]).Node("Add", ["p_mm", "bp"], ["p_lin"])
            .Node("Tanh", ["p_lin"], ["pooler_output"])
            .Output("last_hidden_state", OnnxType.Float, "batch", "sequence", h)
            .Output("pooler_output", OnnxType.Float, "batch", h);
    }

    public static float[] Weights(Random random, int count, float scale) =>
        Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1) * scale).ToArray();

    private static float[] Positive(Random random, int count) =>
        Enumerable.Range(0, count).Select(_ => (float)(0.5 + random.NextDouble())).ToArray();
}
