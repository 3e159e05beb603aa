using System.Runtime.InteropServices;
using TrtMLNet.Backends.OnnxRuntime;
using TrtMLNet.Onnx;
using TrtMLNet.Tests.Models;
using static TrtMLNet.Tests.Onnx.RewriteAssertions;

namespace TrtMLNet.Tests.Onnx;

/// <summary>What the float16 rewrite changes in a graph and what it keeps: IO, weights, blocked ops, casts.</summary>
public class PrecisionRewriteStructureTests
{
    public static TheoryData<string> ModelNames => ["mlp", "encoder", "layernorm-encoder", "bert-layer", "convnet", "multi-io"];

    [Theory]
    [MemberData(nameof(ModelNames))]
    public void GraphInputsAndOutputsKeepTheirNamesTypesAndShapes(string name)
    {
        var original = OnnxObjectModelTests.Model(name);
        var rewritten = Rewrite(original, out var report);
        Assert.True(report.Changed);
        // The file reader of the ONNX Runtime backend, not the rewrite's own object model, reads both.
        var before = OnnxModelReader.Read(original, "original");
        var after = OnnxModelReader.Read(rewritten, "rewritten");
        Assert.Equal(before.Inputs.Select(i => i.ToString()), after.Inputs.Select(i => i.ToString()));
        Assert.Equal(before.Outputs.Select(o => o.ToString()), after.Outputs.Select(o => o.ToString()));
        Assert.Equal(before.Inputs.Select(i => (i.ElementType, i.TypeName)), after.Inputs.Select(i => (i.ElementType, i.TypeName)));
        Assert.Equal(before.Outputs.Select(o => (o.ElementType, o.TypeName)), after.Outputs.Select(o => (o.ElementType, o.TypeName)));
    }

    [Theory]
    [MemberData(nameof(ModelNames))]
    public void EveryFloat32WeightReadByAConvertedNodeBecomesFloat16(string name)
    {
        var original = Graph(OnnxObjectModelTests.Model(name));
        var floatWeights = original.Initializers.Where(i => i.ElementType == OnnxDataType.Float).Select(i => i.Name!).ToList();
        var otherWeights = original.Initializers.Where(i => i.ElementType != OnnxDataType.Float).ToDictionary(i => i.Name!, i => i.RawData!.Value.ToArray());
        Assert.NotEmpty(floatWeights);

        var rewritten = Graph(Rewrite(OnnxObjectModelTests.Model(name), out var report));
        // In these models every float weight is read by a converted op (none is blocked).
        Assert.Equal(floatWeights.Count, report.ConvertedInitializers);
        Assert.Equal(0, report.Float32Initializers);
        foreach (var weight in floatWeights)
        {
            var before = original.Initializer(weight);
            var after = rewritten.Initializer(weight);
            Assert.Equal(OnnxDataType.Float16, after.ElementType);
            Assert.Equal(before.Dims, after.Dims);
            var expected = Floats(before).Select(v => BitConverter.HalfToUInt16Bits(ClampedHalf(v))).ToArray();
            var actual = MemoryMarshal.Cast<byte, ushort>(after.RawData!.Value.Span).ToArray();
            Assert.Equal(expected, actual);
        }
        foreach (var (weight, bytes) in otherWeights)
            Assert.Equal(bytes, rewritten.Initializer(weight).RawData!.Value.ToArray()); // int64 and float64 untouched
    }

    [Fact]
    public void InputsAreCastOnceAndOutputsCastBackUnderTheirOwnNames()
    {
        var graph = Graph(Rewrite(TestModels.Mlp().Build(), out var report));
        // features -> one Cast to float16, read by the first MatMul.
        var matMul = graph.Node("MatMul");
        Assert.Equal("features", graph.AssertCastTo(matMul.Inputs[0], OnnxDataType.Float16));
        Assert.Single(graph.Readers("features"));
        // scores is read by Softmax (float16) and is an output (float32): Add writes a float16 value,
        // a Cast makes "scores" from it, and Softmax reads the float16 value.
        var reduced = graph.AssertCastTo("scores", OnnxDataType.Float);
        Assert.Equal("Add", graph.Producer(reduced).OpType);
        Assert.Equal(reduced, graph.Node("Softmax").Inputs[0]);
        Assert.Equal(graph.Node("Softmax").Outputs[0], graph.AssertCastTo("probabilities", OnnxDataType.Float));
        Assert.Equal(3, report.CastsInserted);
    }

    [Fact]
    public void DefaultBlockedOpsComputeInFloat32()
    {
        var model = new OnnxModelBuilder()
            .Input("x", OnnxType.Float, "N", 8)
            .Initializer("w", PrecisionTestModels.Weights(new Random(3), 64, 0.5f), 8, 8)
            .Initializer("k", new long[] { 3 }, 1)
            .Initializer("b", PrecisionTestModels.Weights(new Random(4), 3, 0.5f), 3)
            .Node("MatMul", ["x", "w"], ["h"])
            .Node("TopK", ["h", "k"], ["top", "indices"], ("axis", 1L))
            .Node("Add", ["top", "b"], ["y"])
            .Output("y", OnnxType.Float, "N", 3)
            .Output("indices", OnnxType.Int64, "N", 3)
            .Build();
        var rewritten = Rewrite(model, out var report);
        var graph = Graph(rewritten);
        var topK = graph.Node("TopK");
        var reduced = graph.AssertCastTo(topK.Inputs[0], OnnxDataType.Float); // float16 MatMul output cast up
        Assert.Equal("MatMul", graph.Producer(reduced).OpType);
        var add = graph.Node("Add");
        Assert.Equal("top", graph.AssertCastTo(add.Inputs[0], OnnxDataType.Float16)); // TopK's float32 values cast down
        Assert.Equal("indices", topK.Outputs[1]);
        Assert.Equal(1, report.BlockedNodesByOpType["TopK"]);
        Assert.Equal(OnnxDataType.Float16, graph.Initializer("w").ElementType);
        Assert.Equal(OnnxDataType.Float16, graph.Initializer("b").ElementType);

        var inputs = new OrtCpu.Input("x", PrecisionTestModels.Weights(new Random(5), 4 * 8, 2f), [4, 8]);
        var expected = OrtCpu.Run(model, inputs)["y"].Values;
        Assert.True(OrtCpu.RelativeError(expected, OrtCpu.Run(rewritten, inputs)["y"].Values) < 5e-3);
    }

    [Fact]
    public void UserBlockedOpsAndNodesComputeInFloat32()
    {
        var options = new PrecisionRewriteOptions { BlockedOps = ["Softmax"], BlockedNodes = ["MatMul_0"] };
        var graph = Graph(Rewrite(TestModels.Mlp().Build(), out var report, options));
        var firstMatMul = graph.Nodes.Single(n => n.Name == "MatMul_0");
        Assert.Equal(["features", "w1"], firstMatMul.Inputs); // float32 input, float32 weight
        Assert.Equal(OnnxDataType.Float, graph.Initializer("w1").ElementType);
        Assert.Equal(OnnxDataType.Float16, graph.Initializer("b1").ElementType);
        Assert.Equal("h0", graph.AssertCastTo(graph.Node("Add").Inputs[0], OnnxDataType.Float16));
        var softmax = graph.Node("Softmax");
        Assert.Equal("probabilities", softmax.Outputs[0]); // float32 already: no cast back
        Assert.Equal("scores", softmax.Inputs[0]); // reads the float32 output, not a float16 copy
        Assert.Equal(new Dictionary<string, int> { ["MatMul"] = 1, ["Softmax"] = 1 }, report.BlockedNodesByOpType);
        Assert.Equal(1, report.Float32Initializers);
    }

    [Fact]
    public void CastsToFloatBecomeFloat16InsideTheGraph()
    {
        var graph = Graph(Rewrite(TestModels.TinyEncoder().Build(), out var report));
        var cast = graph.Producer("mask_float");
        Assert.Equal("attention_mask", cast.Inputs[0]);
        Assert.Equal((long)OnnxDataType.Float16, cast.Attribute("to")!.I);
        Assert.Equal(1, report.RetargetedCasts);
    }

    [Fact]
    public void ACastThatMakesAGraphOutputKeepsFloat32()
    {
        var model = new OnnxModelBuilder()
            .Input("ids", OnnxType.Int64, "N", 2)
            .Initializer("w", [0.5f, 2f], 2)
            .Node("Cast", ["ids"], ["as_float"], ("to", (long)OnnxType.Float))
            .Node("Mul", ["as_float", "w"], ["scaled"])
            .Output("as_float", OnnxType.Float, "N", 2)
            .Output("scaled", OnnxType.Float, "N", 2)
            .Build();
        var graph = Graph(Rewrite(model, out var report));
        Assert.Equal((long)OnnxDataType.Float, graph.Producer("as_float").Attribute("to")!.I);
        Assert.Equal("as_float", graph.AssertCastTo(graph.Node("Mul").Inputs[0], OnnxDataType.Float16));
        Assert.Equal(0, report.RetargetedCasts);
    }

    [Fact]
    public void ResizeScalesAndConvNetConstantsFollowTheOpsTypeConstraints()
    {
        var graph = Graph(Rewrite(PrecisionTestModels.ConvNet().Build(), out var report));
        var resize = graph.Node("Resize");
        Assert.Equal("resize_scales", resize.Inputs[2]); // scales is tensor(float) in every opset: no cast
        var scales = graph.Producer("resize_scales").Attribute("value")!.T!;
        Assert.Equal(OnnxDataType.Float, scales.ElementType);
        Assert.Equal(0, report.ConvertedConstants);
        foreach (var parameter in new[] { "bn_scale", "bn_bias", "bn_mean", "bn_var" })
            Assert.Equal(OnnxDataType.Float16, graph.Initializer(parameter).ElementType); // one type T with X
        Assert.Empty(report.BlockedNodesByOpType);
    }

    [Fact]
    public void ConstantsReadByConvertedOpsAreConvertedAndHugeValuesClamped()
    {
        var graph = Graph(Rewrite(PrecisionTestModels.LayerNormEncoder().Build(), out var report));
        var scale = graph.Producer("scale").Attribute("value")!.T!;
        Assert.Equal(OnnxDataType.Float16, scale.ElementType);
        Assert.Equal((Half)0.25f, BitConverter.ToHalf(scale.RawData!.Value.Span));
        Assert.Equal(1, report.ConvertedConstants);
        // float.MinValue -> the lowest finite half; 1e-12 -> the smallest half subnormal, not 0.
        Assert.Equal(Half.MinValue, BitConverter.ToHalf(graph.Initializer("lowest").RawData!.Value.Span));
        Assert.Equal(Half.Epsilon, BitConverter.ToHalf(graph.Initializer("epsilon").RawData!.Value.Span));
        Assert.Equal(2, report.ClampedValues);
    }

    [Fact]
    public void BFloat16KeepsOpsThatTakeItOnlyInLaterOpsetsInFloat32()
    {
        // Conv, MaxPool and GlobalAveragePool take bfloat16 from opset 22, BatchNormalization from 14;
        // at opset 13 they stay float32, while Relu, Gemm and Softmax convert.
        var graph = Graph(Rewrite(PrecisionTestModels.ConvNet().Build(), out var report, new PrecisionRewriteOptions { Target = ReducedPrecision.BFloat16 }));
        Assert.Equal(["BatchNormalization", "Conv", "GlobalAveragePool", "MaxPool"], report.BlockedNodesByOpType.Keys);
        Assert.Equal(OnnxDataType.Float, graph.Initializer("conv1_w").ElementType);
        Assert.Equal(OnnxDataType.BFloat16, graph.Initializer("fc_w").ElementType);
        Assert.Equal("r1", graph.AssertCastTo(graph.Node("MaxPool").Inputs[0], OnnxDataType.Float));
        Assert.Equal("bn", graph.AssertCastTo(graph.Node("Relu").Inputs[0], OnnxDataType.BFloat16));
    }

    /// <summary>(Half)value, except that finite values stay finite and non-zero values non-zero.</summary>
    private static Half ClampedHalf(float value)
    {
        var half = (Half)value;
        if (Half.IsInfinity(half) && float.IsFinite(value))
            return value > 0 ? Half.MaxValue : Half.MinValue;
        return half == Half.Zero && value != 0 ? (value > 0 ? Half.Epsilon : -Half.Epsilon) : half;
    }

    internal static float[] Floats(TensorProto tensor) => MemoryMarshal.Cast<byte, float>(tensor.RawData!.Value.Span).ToArray();
}
