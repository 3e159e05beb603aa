using Microsoft.ML;
using Microsoft.ML.Data;
using TrtMLNet.Onnx;
using TrtMLNet.Tests.Models;
using TrtMLNet.Tests.TensorRt;

namespace TrtMLNet.Tests.Onnx;

/// <summary>
/// Eager attention as torch.onnx writes it (transformers' BertSelfAttention with eager attention, scaled down
/// to 2 heads of 4) becomes one com.microsoft.MultiHeadAttention that gives the same outputs on ONNX Runtime.
/// </summary>
public sealed class AttentionFusionTests
{
    private const int Hidden = 8, Heads = 2, HeadSize = 4, Sequence = 5, Batch = 3;

    /// <param name="concatShape">The heads' shape as transformers 5 writes it: Concat(batch, sequence, -1, size) from Shape and Gather.</param>
    /// <param name="withMask">An additive mask from a [batch, sequence] 0/1 input, as transformers 4 built it.</param>
    /// <param name="twoStepKey">k transposed as [0,2,1,3] then [0,1,3,2] instead of one [0,2,3,1].</param>
    /// <param name="softmaxAlsoOutput">The softmax is also a graph output, so the block must stay.</param>
    /// <param name="sequence">The sequence dimension: "S", or a number for a model ML.NET columns can feed.</param>
    /// <param name="swapped">The scale before the scores in their Mul, and the mask before the scaled scores in their Add.</param>
    /// <param name="causal">A [sequence, sequence] causal mask (an initializer for 5 tokens) instead of the padding mask input.</param>
    /// <param name="flatOutput">The block closes with a Reshape to [-1, hidden], a Softmax over that first axis and a Reshape back.</param>
    private static byte[] EagerAttention(bool concatShape = false, bool withMask = true, bool twoStepKey = false, bool softmaxAlsoOutput = false,
        object? sequence = null, bool swapped = false, bool causal = false, bool flatOutput = false, string shapeSource = "x")
    {
        sequence ??= "S";
        var random = new Random(3);
        float[] Values(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var b = new OnnxModelBuilder(opset: 17)
            .Input("x", OnnxType.Float, "N", sequence, Hidden)
            .Output("y", OnnxType.Float, "N", sequence, Hidden);
        if (withMask && !causal)
            b.Input("mask", OnnxType.Float, "N", sequence);
        foreach (var p in new[] { "q", "k", "v" })
        {
            b.Initializer($"W{p}", Values(Hidden * Hidden), Hidden, Hidden).Initializer($"b{p}", Values(Hidden), Hidden)
                .Node("MatMul", ["x", $"W{p}"], [$"m{p}"]).Node("Add", [$"b{p}", $"m{p}"], [p]);
        }
        if (concatShape)
        {
            b.Initializer("i0", new long[] { 0 }).Initializer("i1", new long[] { 1 }).Initializer("axis0", new long[] { 0 }, 1)
                .Initializer("minus1", new long[] { -1 }, 1).Initializer("size", new long[] { HeadSize }, 1)
                .Node("Shape", [shapeSource], ["xshape"]).Node("Gather", ["xshape", "i0"], ["n"]).Node("Gather", ["xshape", "i1"], ["s"])
                .Node("Unsqueeze", ["n", "axis0"], ["n1"]).Node("Unsqueeze", ["s", "axis0"], ["s1"])
                .Node("Concat", ["n1", "s1", "minus1", "size"], ["heads_shape"], ("axis", 0L))
                .Node("Concat", ["n1", "s1", "minus1"], ["merged_shape"], ("axis", 0L));
        }
        else
        {
            b.Initializer("heads_shape", new long[] { 0, 0, Heads, HeadSize }, 4).Initializer("merged_shape", new long[] { 0, 0, Hidden }, 3);
        }
        b.Node("Reshape", ["q", "heads_shape"], ["rq"]).Node("Transpose", ["rq"], ["tq"], ("perm", new long[] { 0, 2, 1, 3 }))
            .Node("Reshape", ["v", "heads_shape"], ["rv"]).Node("Transpose", ["rv"], ["tv"], ("perm", new long[] { 0, 2, 1, 3 }))
            .Node("Reshape", ["k", "heads_shape"], ["rk"]);
        if (twoStepKey)
            b.Node("Transpose", ["rk"], ["tk0"], ("perm", new long[] { 0, 2, 1, 3 })).Node("Transpose", ["tk0"], ["tk"], ("perm", new long[] { 0, 1, 3, 2 }));
        else
            b.Node("Transpose", ["rk"], ["tk"], ("perm", new long[] { 0, 2, 3, 1 }));
        b.Initializer("scale", new[] { 0.5f }).Node("MatMul", ["tq", "tk"], ["scores"]).Node("Mul", swapped ? ["scale", "scores"] : ["scores", "scale"], ["scaled"]);
        if (causal)
        {
            var lower = Enumerable.Range(0, Sequence * Sequence).Select(i => i % Sequence <= i / Sequence ? 0f : -10000f).ToArray();
            b.Initializer("causal", lower, Sequence, Sequence).Node("Add", ["scaled", "causal"], ["masked"]).Node("Softmax", ["masked"], ["probs"], ("axis", -1L));
        }
        else if (withMask)
        {
            b.Initializer("ax1", new long[] { 1 }, 1).Initializer("ax2", new long[] { 2 }, 1).Initializer("one", new[] { 1f }).Initializer("big", new[] { -10000f })
                .Node("Unsqueeze", ["mask", "ax1"], ["m1"]).Node("Unsqueeze", ["m1", "ax2"], ["m2"])
                .Node("Sub", ["one", "m2"], ["inverse"]).Node("Mul", ["inverse", "big"], ["additive"])
                .Node("Add", swapped ? ["additive", "scaled"] : ["scaled", "additive"], ["masked"]).Node("Softmax", ["masked"], ["probs"], ("axis", -1L));
        }
        else
        {
            b.Node("Softmax", ["scaled"], ["probs"], ("axis", -1L));
        }
        if (softmaxAlsoOutput)
            b.Output("probs", OnnxType.Float, "N", Heads, "S", "S");
        b.Node("MatMul", ["probs", "tv"], ["context"]).Node("Transpose", ["context"], ["merged"], ("perm", new long[] { 0, 2, 1, 3 }));
        if (!flatOutput)
            return b.Node("Reshape", ["merged", "merged_shape"], ["y"]).Build();
        return b.Initializer("flat", new long[] { -1, Hidden }, 2).Initializer("back", new long[] { -1, Sequence, Hidden }, 3)
            .Node("Reshape", ["merged", "flat"], ["rows"]).Node("Softmax", ["rows"], ["across"], ("axis", 0L)).Node("Reshape", ["across", "back"], ["y"])
            .Build();
    }

    [Theory]
    [InlineData(true, false, false)]
    [InlineData(false, true, false)]
    [InlineData(false, false, true)]
    public void OtherShapesOfTheBlockGiveTheSameOutputsFusedOrNot(bool swapped, bool causal, bool flatOutput)
    {
        var original = EagerAttention(concatShape: true, swapped: swapped, causal: causal, flatOutput: flatOutput);
        var (fused, model) = Fuse(original);

        Assert.Equal(1, fused);
        var inputs = Inputs(withMask: !causal);
        var expected = OrtCpu.Run(original, inputs)["y"];
        var actual = OrtCpu.Run(model.ToBytes(), inputs)["y"];
        Assert.Equal(expected.Shape, actual.Shape);
        var worst = expected.Values.Zip(actual.Values, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(worst < 1e-5f, $"The fused attention differs from the original by up to {worst}.");
    }

    /// <summary>One eager block named by <paramref name="p"/>: q from <paramref name="queries"/>, k and v from <paramref name="keys"/>.</summary>
    private static void Block(OnnxModelBuilder b, Random random, string p, string queries, string keys, string mask, string output)
    {
        float[] Values(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        foreach (var (t, source) in new[] { ("q", queries), ("k", keys), ("v", keys) })
            b.Initializer($"{p}W{t}", Values(Hidden * Hidden), Hidden, Hidden).Node("MatMul", [source, $"{p}W{t}"], [$"{p}{t}"])
                .Node("Reshape", [$"{p}{t}", "heads_shape"], [$"{p}r{t}"]);
        b.Node("Transpose", [$"{p}rq"], [$"{p}tq"], ("perm", new long[] { 0, 2, 1, 3 })).Node("Transpose", [$"{p}rk"], [$"{p}tk"], ("perm", new long[] { 0, 2, 3, 1 }))
            .Node("Transpose", [$"{p}rv"], [$"{p}tv"], ("perm", new long[] { 0, 2, 1, 3 }))
            .Node("MatMul", [$"{p}tq", $"{p}tk"], [$"{p}scores"]).Node("Mul", [$"{p}scores", "scale"], [$"{p}scaled"])
            .Node("Add", [$"{p}scaled", mask], [$"{p}masked"]).Node("Softmax", [$"{p}masked"], [$"{p}probs"], ("axis", -1L))
            .Node("MatMul", [$"{p}probs", $"{p}tv"], [$"{p}context"]).Node("Transpose", [$"{p}context"], [$"{p}merged"], ("perm", new long[] { 0, 2, 1, 3 }))
            .Node("Reshape", [$"{p}merged", "merged_shape"], [output]);
    }

    [Fact]
    public void BlocksOfDifferentLengthsSharingOneMaskEachGetTheirOwnBias()
    {
        // Self-attention over x (5 tokens) and cross-attention from d (2 tokens) to x, both masked by x's padding.
        var b = new OnnxModelBuilder(opset: 17).Input("x", OnnxType.Float, "N", "S", Hidden).Input("d", OnnxType.Float, "N", "T", Hidden)
            .Input("additive", OnnxType.Float, "N", 1, 1, "S").Output("y", OnnxType.Float, "N", "S", Hidden).Output("z", OnnxType.Float, "N", "T", Hidden)
            .Initializer("heads_shape", new long[] { 0, 0, Heads, HeadSize }, 4).Initializer("merged_shape", new long[] { 0, 0, Hidden }, 3)
            .Initializer("scale", new[] { 0.5f });
        var random = new Random(4);
        Block(b, random, "self_", "x", "x", "additive", "y");
        Block(b, random, "cross_", "d", "x", "additive", "z");
        var original = b.Build();
        var (fused, model) = Fuse(original);

        Assert.Equal(2, fused);
        var values = new Random(8);
        float[] Draw(int n) => Enumerable.Range(0, n).Select(_ => (float)(values.NextDouble() * 2 - 1)).ToArray();
        var mask = Enumerable.Range(0, Batch * Sequence).Select(i => i % Sequence < Sequence - i / Sequence ? 0f : -10000f).ToArray();
        OrtCpu.Input[] inputs =
        [
            new("x", Draw(Batch * Sequence * Hidden), [Batch, Sequence, Hidden]), new("d", Draw(Batch * 2 * Hidden), [Batch, 2, Hidden]),
            new("additive", mask, [Batch, 1, 1, Sequence]),
        ];
        foreach (var name in new[] { "y", "z" })
        {
            var expected = OrtCpu.Run(original, inputs)[name];
            var actual = OrtCpu.Run(model.ToBytes(), inputs)[name];
            Assert.Equal(expected.Shape, actual.Shape);
            Assert.True(expected.Values.Zip(actual.Values, (e, a) => Math.Abs(e - a)).Max() < 1e-5f, $"{name} differs once fused.");
        }
    }

    private static OrtCpu.Input[] Inputs(bool withMask)
    {
        var random = new Random(11);
        var x = new OrtCpu.Input("x", Enumerable.Range(0, Batch * Sequence * Hidden).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray(), [Batch, Sequence, Hidden]);
        // Row 0 sees everything; rows 1 and 2 have padding at the end, which the mask hides.
        var mask = new OrtCpu.Input("mask", Enumerable.Range(0, Batch * Sequence).Select(i => i % Sequence < Sequence - i / Sequence ? 1f : 0f).ToArray(), [Batch, Sequence]);
        return withMask ? [x, mask] : [x];
    }

    private static (int Fused, ModelProto Model) Fuse(byte[] bytes)
    {
        var model = ModelProto.Parse(bytes);
        return (TransformerFusions.Run(model).AttentionBlocks, model);
    }

    [Theory]
    [InlineData(false, true, false)]
    [InlineData(true, true, false)]
    [InlineData(false, false, false)]
    [InlineData(true, true, true)]
    public void EagerAttentionBecomesOneMultiHeadAttentionWithTheSameOutputs(bool concatShape, bool withMask, bool twoStepKey)
    {
        var original = EagerAttention(concatShape, withMask, twoStepKey);
        var (fused, model) = Fuse(original);

        Assert.Equal(1, fused);
        var attention = Assert.Single(model.Graph!.Nodes, n => n.OpType == "MultiHeadAttention");
        Assert.Equal("com.microsoft", attention.Domain);
        Assert.Equal(Heads, attention.Attribute("num_heads")!.I);
        Assert.Equal(0.5f, attention.Attribute("scale")!.F);
        // The block's scores, softmax and transposes are gone; its reshapes stay (they cost no copy).
        Assert.DoesNotContain(model.Graph.Nodes, n => n.OpType is "Softmax" or "Transpose");
        Assert.Contains(model.OpsetImport, o => o.Domain == "com.microsoft");

        var expected = OrtCpu.Run(original, Inputs(withMask))["y"];
        var actual = OrtCpu.Run(model.ToBytes(), Inputs(withMask))["y"];
        Assert.Equal(expected.Shape, actual.Shape);
        var worst = expected.Values.Zip(actual.Values, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(worst < 1e-5f, $"The fused attention differs from the original by up to {worst}.");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ABlockWhoseValuesAreReadOutsideItIsLeftAsItIs(bool swapped)
    {
        var original = EagerAttention(softmaxAlsoOutput: true, swapped: swapped);
        var (fused, model) = Fuse(original);

        Assert.Equal(0, fused);
        Assert.Equal(original, model.ToBytes());
    }

    [Fact]
    public void HeadsAreNotGuessedFromASplitThatMayNotKeepQsLeadingDimensions()
    {
        // The split is (n, s, -1, 4) with n and s read from another tensor's shape: the heads could differ from q's width over 4.
        var original = EagerAttention(concatShape: true, shapeSource: "mask");
        var (fused, model) = Fuse(original);

        Assert.Equal(0, fused);
        Assert.Equal(original, model.ToBytes());
    }

    [Fact]
    public void AModelBelowOpset15IsLeftAsItIs()
    {
        var model = ModelProto.Parse(new OnnxModelBuilder(opset: 13).Input("x", OnnxType.Float, "N", 4).Node("Softmax", ["x"], ["y"], ("axis", -1L))
            .Output("y", OnnxType.Float, "N", 4).Build());
        Assert.Equal(0, TransformerFusions.Run(model).AttentionBlocks);
    }

    [Fact]
    public void TheFusedModelGoesThroughTheFp16Rewrite()
    {
        var (_, model) = Fuse(EagerAttention(concatShape: true));
        var half = PrecisionRewrite.Rewrite(model.ToBytes(), new PrecisionRewriteOptions { Target = ReducedPrecision.Float16 }, out var report);

        Assert.True(report.Changed);
        var rewritten = ModelProto.Parse(half);
        var attention = Assert.Single(rewritten.Graph!.Nodes, n => n.OpType == "MultiHeadAttention");
        // The mask's broadcast and q, k, v all reach the fused node in float16: it takes one type for all of them.
        Assert.All(rewritten.Graph.Initializers.Where(t => t.Name is "Wq" or "bq"), t => Assert.Equal(OnnxDataType.Float16, t.ElementType));
        Assert.Equal(6, attention.Inputs.Count);
    }

    public sealed class Row
    {
        [VectorType(Sequence * Hidden)] public float[] x { get; set; } = [];

        [VectorType(Sequence)] public float[] mask { get; set; } = [];
    }

    public sealed class Scored
    {
        [VectorType(Sequence * Hidden)] public float[] y { get; set; } = [];
    }

    [Fact]
    public void ApplyTensorRtFusesByDefaultScoresAsWithoutAndSaysWhatItFused()
    {
        using var folder = new TempFolder();
        var file = Path.Combine(folder.Path, "attention.onnx");
        File.WriteAllBytes(file, EagerAttention(concatShape: true, sequence: Sequence));
        var inputs = Inputs(withMask: true);
        var rows = Enumerable.Range(0, Batch).Select(r => new Row
        {
            x = ((float[])inputs[0].Data).AsSpan(r * Sequence * Hidden, Sequence * Hidden).ToArray(),
            mask = ((float[])inputs[1].Data).AsSpan(r * Sequence, Sequence).ToArray(),
        }).ToArray();
        var ml = new MLContext(1);
        var log = new List<string>();
        ml.Log += (_, e) => log.Add(e.Message);
        var data = ml.Data.LoadFromEnumerable(rows);
        float[][] Score(bool? fuse)
        {
            var options = new TensorRtOptions { ModelFile = file, Backend = TensorRtBackend.OnnxRuntimeCpu, BatchSize = 4, EngineCacheDirectory = folder.Path };
            if (fuse is { } value)
                options.FuseTransformerOps = value;
            using var model = ml.Transforms.ApplyTensorRt(options).Fit(data);
            return ml.Data.CreateEnumerable<Scored>(model.Transform(data), reuseRowObject: false).Select(s => s.y).ToArray();
        }

        var plain = Score(fuse: false);
        Assert.DoesNotContain(log, m => m.Contains("attention blocks fused", StringComparison.Ordinal));
        var fused = Score(fuse: null);

        Assert.Contains(log, m => m.Contains("1 attention blocks fused into com.microsoft.MultiHeadAttention", StringComparison.Ordinal));
        for (var r = 0; r < Batch; r++)
            Assert.True(plain[r].Zip(fused[r], (a, b) => Math.Abs(a - b)).Max() < 1e-5f, $"Row {r} differs with FuseTransformerOps.");
    }
}
