using TrtMLNet.Onnx;
using TrtMLNet.Tests.Models;

namespace TrtMLNet.Tests.Onnx;

/// <summary>
/// A transformer's residual add before its layer norm (the bias added to a MatMul's output, the residual
/// stream added, LayerNormalization over the last axis) becomes one com.microsoft.SkipLayerNormalization with
/// the same outputs; other sums before a layer norm, which SkipLayerNormalization would broadcast differently
/// or refuse, stay as they are.
/// </summary>
public sealed class SkipLayerNormFusionTests
{
    private const int Hidden = 8;

    /// <param name="sharedBias">The bias reaches its Add through an Identity node, as exporters share equal tensors.</param>
    private static byte[] Residual(bool biasFirst = true, bool residualFirst = false, bool withShift = true, long axis = -1, bool sumAlsoOutput = false,
        bool withMatMul = true, bool sharedBias = false)
    {
        var random = new Random(5);
        float[] Values(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var b = new OnnxModelBuilder(opset: 17).Input("x", OnnxType.Float, "N", "S", Hidden).Output("y", OnnxType.Float, "N", "S", Hidden)
            .Initializer("W", Values(Hidden * Hidden), Hidden, Hidden).Initializer("bias", Values(Hidden), Hidden)
            .Initializer("gamma", Values(Hidden), Hidden).Initializer("beta", Values(Hidden), Hidden)
            .Initializer("gamma0", Values(Hidden), Hidden).Initializer("beta0", Values(Hidden), Hidden)
            // The residual stream: the previous layer norm's output, which the block's MatMul reads too.
            .Node("LayerNormalization", ["x", "gamma0", "beta0"], ["stream"], ("axis", -1L));
        var projected = withMatMul ? "mm" : "x2";
        if (withMatMul)
            b.Node("MatMul", ["stream", "W"], ["mm"]);
        else
            b.Node("Mul", ["stream", "stream"], ["x2"]);
        var bias = "bias";
        if (sharedBias)
            b.Node("Identity", ["bias"], [bias = "shared_bias"]);
        b.Node("Add", biasFirst ? [bias, projected] : [projected, bias], ["biased"])
            .Node("Add", residualFirst ? ["stream", "biased"] : ["biased", "stream"], ["sum"])
            .Node("LayerNormalization", withShift ? ["sum", "gamma", "beta"] : ["sum", "gamma"], ["y"], ("axis", axis), ("epsilon", 1e-6f));
        if (sumAlsoOutput)
            b.Output("sum", OnnxType.Float, "N", "S", Hidden);
        return b.Build();
    }

    private static OrtCpu.Input Input()
    {
        var random = new Random(9);
        return new OrtCpu.Input("x", Enumerable.Range(0, 2 * 3 * Hidden).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray(), [2, 3, Hidden]);
    }

    [Theory]
    [InlineData(true, false, true, false)]
    [InlineData(false, true, true, false)]
    [InlineData(true, true, false, false)]
    [InlineData(true, false, true, true)]
    public void TheResidualAddAndLayerNormBecomeOneSkipLayerNormalization(bool biasFirst, bool residualFirst, bool withShift, bool sharedBias)
    {
        var original = Residual(biasFirst, residualFirst, withShift, sharedBias: sharedBias);
        var model = ModelProto.Parse(original);

        var report = TransformerFusions.Run(model);

        Assert.Equal(1, report.SkipLayerNorms);
        var fused = Assert.Single(model.Graph!.Nodes, n => n.OpType == "SkipLayerNormalization");
        Assert.Equal("com.microsoft", fused.Domain);
        Assert.Equal(["mm", "stream", "gamma", withShift ? "beta" : "", sharedBias ? "shared_bias" : "bias"], fused.Inputs);
        Assert.Equal(1e-6f, fused.Attribute("epsilon")!.F);
        Assert.DoesNotContain(model.Graph.Nodes, n => n.OpType is "Add");
        var expected = OrtCpu.Run(original, Input())["y"];
        var actual = OrtCpu.Run(model.ToBytes(), Input())["y"];
        var worst = expected.Values.Zip(actual.Values, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(worst < 1e-5f, $"The fused layer norm differs from the original by up to {worst}.");
    }

    [Theory]
    [InlineData(1L, false, true)] // a layer norm over more than the last axis
    [InlineData(-1L, true, true)] // the sum is read elsewhere
    [InlineData(-1L, false, false)] // no MatMul under the bias: not a transformer's projection (the embeddings' sum)
    public void OtherSumsBeforeALayerNormAreLeftAsTheyAre(long axis, bool sumAlsoOutput, bool withMatMul)
    {
        var original = Residual(axis: axis, sumAlsoOutput: sumAlsoOutput, withMatMul: withMatMul);
        var model = ModelProto.Parse(original);

        Assert.Equal(0, TransformerFusions.Run(model).SkipLayerNorms);
        Assert.Equal(original, model.ToBytes());
    }

    /// <summary>
    /// Sums SkipLayerNormalization would broadcast differently or refuse (a helper's review ran each on ONNX
    /// Runtime: one gave other numbers with the right shape, the others failed at run time): the projected side
    /// from a batch-1 input, a conditioning vector per example, a second bias.
    /// </summary>
    [Theory]
    [InlineData("batch-1 projection")]
    [InlineData("per-example skip")]
    [InlineData("bias as skip")]
    public void ASkipThatIsNotTheResidualStreamIsLeftAsItIs(string skipKind)
    {
        var random = new Random(5);
        float[] Values(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var b = new OnnxModelBuilder(opset: 17).Output("y", OnnxType.Float, "N", "S", Hidden)
            .Initializer("W", Values(Hidden * Hidden), Hidden, Hidden).Initializer("bias", Values(Hidden), Hidden).Initializer("bias2", Values(Hidden), Hidden)
            .Initializer("gamma", Values(Hidden), Hidden).Initializer("beta", Values(Hidden), Hidden);
        string skip;
        switch (skipKind)
        {
            case "batch-1 projection":
                b.Input("x", OnnxType.Float, 1, "S", Hidden).Input("t", OnnxType.Float, "N", "S", Hidden);
                skip = "t";
                break;
            case "per-example skip":
                b.Input("x", OnnxType.Float, "N", "S", Hidden).Input("t", OnnxType.Float, "N", 1, Hidden);
                skip = "t";
                break;
            default:
                b.Input("x", OnnxType.Float, "N", "S", Hidden);
                skip = "bias2";
                break;
        }
        var original = b.Node("MatMul", ["x", "W"], ["mm"]).Node("Add", ["mm", "bias"], ["biased"]).Node("Add", ["biased", skip], ["sum"])
            .Node("LayerNormalization", ["sum", "gamma", "beta"], ["y"], ("axis", -1L)).Build();
        var model = ModelProto.Parse(original);

        Assert.Equal(0, TransformerFusions.Run(model).SkipLayerNorms);
        Assert.Equal(original, model.ToBytes());
    }

    [Fact]
    public void ALayerNormKeptInFp32IsNotFused()
    {
        var model = ModelProto.Parse(Residual());

        var report = TransformerFusions.Run(model, keepFp32OpTypes: ["LayerNormalization"]);

        Assert.Equal(0, report.SkipLayerNorms);
        Assert.Contains("KeepFp32OpTypes", report.ToString());
    }
}
