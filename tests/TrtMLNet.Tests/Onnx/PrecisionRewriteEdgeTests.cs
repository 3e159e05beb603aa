using Microsoft.ML.OnnxRuntime;
using TrtMLNet.Onnx;
using TrtMLNet.Tests.Models;
using static TrtMLNet.Tests.Onnx.RewriteAssertions;

namespace TrtMLNet.Tests.Onnx;

/// <summary>Models the rewrite leaves alone or refuses, determinism, subgraphs, value_info, ops it does not convert.</summary>
public class PrecisionRewriteEdgeTests
{
    [Fact]
    public void AFloat16ModelComesBackByteForByte()
    {
        var model = new OnnxModelBuilder()
            .Input("x", OnnxType.Float16, "N", 2)
            .Initializer("w", [(Half)0.5f, (Half)2f], 2)
            .Node("Mul", ["x", "w"], ["y"])
            .Output("y", OnnxType.Float16, "N", 2)
            .Build();
        var result = Rewrite(model, out var report);
        Assert.Same(model, result);
        Assert.False(report.Changed);
        Assert.Contains("already in float16", report.UnchangedReason);
        Assert.Contains("already in float16", report.ToString());
    }

    [Fact]
    public void AModelWithoutFloatsOrWithFloatOnlyInBlockedOpsComesBackAsItWas()
    {
        var integers = new OnnxModelBuilder()
            .Input("a", OnnxType.Int64, "N").Node("Add", ["a", "a"], ["b"]).Output("b", OnnxType.Int64, "N").Build();
        Assert.Same(integers, Rewrite(integers, out var report));
        Assert.Equal("no float32 values to convert", report.UnchangedReason);

        var blocked = new OnnxModelBuilder()
            .Input("x", OnnxType.Float, "N", 4).Initializer("k", new long[] { 2 }, 1)
            .Node("TopK", ["x", "k"], ["values", "indices"], ("axis", 1L))
            .Output("values", OnnxType.Float, "N", 2).Output("indices", OnnxType.Int64, "N", 2).Build();
        Assert.Same(blocked, Rewrite(blocked, out report));
        Assert.Equal("every float32 value is read only by nodes kept in float32", report.UnchangedReason);
        Assert.Equal(1, report.BlockedNodesByOpType["TopK"]);
    }

    [Fact]
    public void RewritingIsDeterministicAndIdempotent()
    {
        var first = Rewrite(PrecisionTestModels.LayerNormEncoder().Build(), out _, new PrecisionRewriteOptions { BlockedOps = ["Softmax", "Sqrt"] });
        var second = Rewrite(PrecisionTestModels.LayerNormEncoder().Build(), out _, new PrecisionRewriteOptions { BlockedOps = ["Sqrt", "Softmax"] });
        Assert.Equal(first, second);
        // A rewritten model has nothing left to convert: its float32 is in the edge casts and blocked ops.
        Assert.Same(first, Rewrite(first, out var again, new PrecisionRewriteOptions { BlockedOps = ["Softmax", "Sqrt"] }));
        Assert.False(again.Changed);
    }

    [Fact]
    public void WeightsBeyondHalfsRangeKeepTheirReadersInFloat32()
    {
        var model = new OnnxModelBuilder()
            .Input("x", OnnxType.Float, "N", 2)
            .Initializer("big", [70000f, 0.5f], 2)
            .Initializer("lowest", [float.MinValue, 1f], 2) // a mask's "minus infinity": clamped, not kept
            .Node("Mul", ["x", "big"], ["scaled"])
            .Node("Add", ["scaled", "lowest"], ["y"])
            .Output("scaled", OnnxType.Float, "N", 2)
            .Output("y", OnnxType.Float, "N", 2)
            .Build();
        var rewritten = Rewrite(model, out var report);
        var graph = Graph(rewritten);
        Assert.Equal(["big"], report.OutOfRangeWeights);
        Assert.Equal(OnnxDataType.Float, graph.Initializer("big").ElementType);
        Assert.Equal(["x", "big"], graph.Node("Mul").Inputs);
        Assert.Equal(OnnxDataType.Float16, graph.Initializer("lowest").ElementType);
        Assert.Equal("scaled", graph.AssertCastTo(graph.Node("Add").Inputs[0], OnnxDataType.Float16));
        Assert.Equal(1, report.ClampedValues);
        var inputs = new OrtCpu.Input("x", new[] { 0.25f, 2f, -0.5f, 3f }, [2, 2]);
        // Computed in float32, as the model does (in half, 70000 would have been 65504).
        Assert.Equal([17500f, 1f, -35000f, 1.5f], OrtCpu.Run(rewritten, inputs)["scaled"].Values);
        var y = OrtCpu.Run(rewritten, inputs)["y"].Values;
        Assert.Equal([2f, 2.5f], [y[1], y[3]]);
    }

    [Fact]
    public void ConstantsGivenAsScalarsOrDefaultsBecomeReducedValueTensors()
    {
        var model = new OnnxModelBuilder()
            .Input("x", OnnxType.Float, "N", 3)
            .Node("Shape", ["x"], ["shape"])
            .Node("ConstantOfShape", ["shape"], ["zeros"])
            .Node("Constant", [], ["half"], ("value_float", 0.5f))
            .Node("Add", ["x", "zeros"], ["same"])
            .Node("Mul", ["same", "half"], ["y"])
            .Output("y", OnnxType.Float, "N", 3)
            .Build();
        var rewritten = Rewrite(model, out var report);
        var graph = Graph(rewritten);
        Assert.Equal(2, report.ConvertedConstants);
        Assert.Equal(OnnxDataType.Float16, graph.Producer("zeros").Attribute("value")!.T!.ElementType);
        var half = Assert.Single(graph.Producer("half").Attributes);
        Assert.Equal(("value", OnnxDataType.Float16), (half.Name, half.T!.ElementType));
        Assert.Equal("x", graph.Node("Shape").Inputs[0]); // Shape reads any type: no cast for it
        var inputs = new OrtCpu.Input("x", new[] { 1f, -2f, 3f, 0.5f, 8f, -0.25f }, [2, 3]);
        Assert.Equal(OrtCpu.Run(model, inputs)["y"].Values, OrtCpu.Run(rewritten, inputs)["y"].Values);
    }

    [Fact]
    public void ExternalDataIsRefusedWithWhatToDo()
    {
        var model = new OnnxModelBuilder()
            .Input("x", OnnxType.Float, "N", 4)
            .ExternalInitializer("big_weight", "weights.bin", 4, 4)
            .Node("MatMul", ["x", "big_weight"], ["y"])
            .Output("y", OnnxType.Float, "N", 4)
            .Build();
        var error = Assert.Throws<NotSupportedException>(() => Rewrite(model, out _));
        Assert.Contains("'big_weight'", error.Message);
        Assert.Contains("external data", error.Message);
        Assert.Contains("external_data=False", error.Message);
        Assert.Contains("convert_float_to_float16", error.Message);
    }

    [Fact]
    public void ModelsOverTheProtobufLimitAreRefusedWithWhatToDo()
    {
        var model = TestModels.Mlp().Build();
        var options = new PrecisionRewriteOptions { MaxModelBytes = model.Length - 1 };
        var error = Assert.Throws<NotSupportedException>(() => Rewrite(model, out _, options));
        Assert.Contains($"is {model.Length} bytes", error.Message);
        Assert.Contains("2 GiB", error.Message);
        Assert.Contains("convert_float_to_float16", error.Message);

        var path = Path.Combine(TestModels.Folder, "too-big-for-rewrite.onnx");
        File.WriteAllBytes(path, model);
        error = Assert.Throws<NotSupportedException>(() => PrecisionRewrite.Rewrite(path, options, out _));
        Assert.StartsWith(path, error.Message);
        Assert.Equal(Rewrite(model, out _), PrecisionRewrite.Rewrite(path, new PrecisionRewriteOptions(), out _));
    }

    [Fact]
    public void BFloat16NeedsOpset13()
    {
        var model = TestModels.Mlp().Build();
        var old = ModelProto.Parse(model);
        old.OpsetImport[0].Version = 12;
        var error = Assert.Throws<NotSupportedException>(() => Rewrite(old.ToBytes(), out _, new PrecisionRewriteOptions { Target = ReducedPrecision.BFloat16 }));
        Assert.Contains("opset 12", error.Message);
    }

    [Fact]
    public void IfBranchesStayFloat32AndReadFloat32ValuesFromOutside()
    {
        var random = new Random(9);
        var thenBranch = new OnnxModelBuilder().Node("Mul", ["h", "w_then"], ["branch_out"]).Output("branch_out", OnnxType.Float, "N", 4).BuildGraph();
        var elseBranch = new OnnxModelBuilder().Node("Add", ["h", "w_else"], ["branch_sum"]).Output("branch_sum", OnnxType.Float, "N", 4).BuildGraph();
        var model = new OnnxModelBuilder()
            .Input("x", OnnxType.Float, "N", 4)
            .Input("flag", OnnxType.Bool)
            .Initializer("w", PrecisionTestModels.Weights(random, 16, 0.5f), 4, 4)
            .Initializer("w_then", PrecisionTestModels.Weights(random, 4, 2f), 4)
            .Initializer("w_else", PrecisionTestModels.Weights(random, 4, 2f), 4)
            .Node("MatMul", ["x", "w"], ["h"])
            .Node("If", ["flag"], ["chosen"], ("then_branch", thenBranch), ("else_branch", elseBranch))
            .Node("Relu", ["chosen"], ["y"])
            .Output("y", OnnxType.Float, "N", 4)
            .Build();
        var rewritten = Rewrite(model, out var report);
        var graph = Graph(rewritten);
        Assert.Equal(1, report.BlockedNodesByOpType["If"]);
        Assert.Equal(OnnxDataType.Float16, graph.Initializer("w").ElementType);
        Assert.Equal(OnnxDataType.Float, graph.Initializer("w_then").ElementType); // read only inside the branches
        var ifNode = graph.Node("If");
        var thenMul = ifNode.Attribute("then_branch")!.G!.Nodes[0];
        Assert.Equal("h", graph.AssertCastTo(thenMul.Inputs[0], OnnxDataType.Float)); // the float16 MatMul output, cast up
        Assert.Equal(thenMul.Inputs[0], ifNode.Attribute("else_branch")!.G!.Nodes[0].Inputs[0]); // one cast for both branches
        Assert.Equal("chosen", graph.AssertCastTo(graph.Node("Relu").Inputs[0], OnnxDataType.Float16));

        var x = PrecisionTestModels.Weights(random, 12, 2f);
        foreach (var flag in new[] { true, false })
        {
            OrtCpu.Input[] inputs = [new("x", x, [3, 4]), new("flag", new[] { flag }, [])];
            Assert.True(OrtCpu.RelativeError(OrtCpu.Run(model, inputs)["y"].Values, OrtCpu.Run(rewritten, inputs)["y"].Values) < 5e-3);
        }
    }

    [Fact]
    public void ValueInfoOfConvertedValuesIsRetyped()
    {
        var model = ModelProto.Parse(TestModels.Mlp().Build());
        foreach (var name in new[] { "h1", "scores" })
        {
            var info = new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TensorTypeProto { ElemType = (int)OnnxDataType.Float } } };
            model.Graph!.ValueInfo.Add(info);
        }
        var rewritten = Rewrite(model.ToBytes(), out _);
        var graph = Graph(rewritten);
        Assert.Equal(OnnxDataType.Float16, graph.ValueInfo.Single(v => v.Name == "h1").ElementType);
        Assert.Equal(OnnxDataType.Float, graph.ValueInfo.Single(v => v.Name == "scores").ElementType); // the float32 output
        var inputs = PrecisionRewriteNumericsTests.Inputs("mlp");
        Assert.True(OrtCpu.RelativeError(OrtCpu.Run(model.ToBytes(), inputs)["scores"].Values, OrtCpu.Run(rewritten, inputs)["scores"].Values) < 5e-3);
    }

    [Fact]
    public void OnnxMlOpsStayFloat32()
    {
        var model = new OnnxModelBuilder()
            .Opset("ai.onnx.ml", 1)
            .Input("x", OnnxType.Float, "N", 3)
            .Initializer("w", PrecisionTestModels.Weights(new Random(2), 6, 1f), 3, 2)
            .DomainNode("ai.onnx.ml", "Scaler", ["x"], ["scaled"], ("offset", new[] { 0.5f, -1f, 2f }), ("scale", new[] { 2f, 0.5f, 1f }))
            .Node("MatMul", ["scaled", "w"], ["y"])
            .Output("y", OnnxType.Float, "N", 2)
            .Build();
        var rewritten = Rewrite(model, out var report);
        var graph = Graph(rewritten);
        Assert.Equal(1, report.BlockedNodesByOpType["ai.onnx.ml::Scaler"]);
        Assert.Equal(["x"], graph.Node("Scaler").Inputs);
        Assert.Equal("scaled", graph.AssertCastTo(graph.Node("MatMul").Inputs[0], OnnxDataType.Float16));
        var inputs = new OrtCpu.Input("x", PrecisionTestModels.Weights(new Random(4), 15, 3f), [5, 3]);
        Assert.True(OrtCpu.RelativeError(OrtCpu.Run(model, inputs)["y"].Values, OrtCpu.Run(rewritten, inputs)["y"].Values) < 5e-3);
    }

    /// <summary>
    /// What ONNX Runtime's transformer optimizer writes for BERT (onnxruntime.transformers): embeddings with
    /// their layer norm, fused attention, the residual add fused into the layer norm. They have float16 CUDA
    /// kernels, so they are converted (not kept in float32 behind casts), without value_info to type them.
    /// </summary>
    [Fact]
    public void OnnxRuntimeTransformerFusionsAreConvertedWithoutValueInfo()
    {
        const int hidden = 8, vocabulary = 16, positions = 4;
        var random = new Random(7);
        var model = new OnnxModelBuilder()
            .Opset("com.microsoft", 1)
            .Input("ids", OnnxType.Int32, "N", positions)
            .Input("mask", OnnxType.Int32, "N", positions)
            .Initializer("words", PrecisionTestModels.Weights(random, vocabulary * hidden, 1f), vocabulary, hidden)
            .Initializer("positions", PrecisionTestModels.Weights(random, positions * hidden, 1f), positions, hidden)
            .Initializer("gamma", PrecisionTestModels.Weights(random, hidden, 1f), hidden)
            .Initializer("beta", PrecisionTestModels.Weights(random, hidden, 1f), hidden)
            .Initializer("qkv", PrecisionTestModels.Weights(random, hidden * 3 * hidden, 1f), hidden, 3 * hidden)
            .Initializer("qkv_bias", PrecisionTestModels.Weights(random, 3 * hidden, 1f), 3 * hidden)
            .DomainNode("com.microsoft", "EmbedLayerNormalization", ["ids", "", "words", "positions", "", "gamma", "beta", "mask"], ["embedded", "mask_index"])
            .DomainNode("com.microsoft", "Attention", ["embedded", "qkv", "qkv_bias", "mask_index"], ["attended"], ("num_heads", 2L))
            .DomainNode("com.microsoft", "SkipLayerNormalization", ["attended", "embedded", "gamma", "beta"], ["y"])
            .Output("y", OnnxType.Float, "N", positions, hidden)
            .Build();

        var graph = Graph(Rewrite(model, out var report));

        Assert.Empty(report.BlockedNodesByOpType);
        Assert.All(new[] { "words", "positions", "gamma", "beta", "qkv", "qkv_bias" }, name => Assert.Equal(OnnxDataType.Float16, graph.Initializer(name).ElementType));
        Assert.Equal(["embedded", "qkv", "qkv_bias", "mask_index"], graph.Node("Attention").Inputs); // the int32 mask index goes straight through
        Assert.Equal(graph.Node("SkipLayerNormalization").Outputs[0], graph.AssertCastTo("y", OnnxDataType.Float)); // float out, as the column wants
    }

    [Fact]
    public void UnknownOpsNeedTheirOutputTypesInValueInfo()
    {
        var builder = new OnnxModelBuilder()
            .Opset("test.custom", 1)
            .Input("x", OnnxType.Float, "N", 3)
            .Initializer("w", PrecisionTestModels.Weights(new Random(2), 6, 1f), 3, 2)
            .DomainNode("test.custom", "Mystery", ["x"], ["m"])
            .Node("MatMul", ["m", "w"], ["y"])
            .Output("y", OnnxType.Float, "N", 2);
        var error = Assert.Throws<NotSupportedException>(() => Rewrite(builder.Build(), out _));
        Assert.Contains("reads 'm'", error.Message);
        Assert.Contains("value_info", error.Message);

        var model = ModelProto.Parse(builder.Build());
        model.Graph!.ValueInfo.Add(new ValueInfoProto { Name = "m", Type = new TypeProto { TensorType = new TensorTypeProto { ElemType = (int)OnnxDataType.Float } } });
        var graph = Graph(Rewrite(model.ToBytes(), out var report));
        Assert.Equal(1, report.BlockedNodesByOpType["test.custom::Mystery"]);
        Assert.Equal(["x"], graph.Node("Mystery").Inputs);
        Assert.Equal("m", graph.AssertCastTo(graph.Node("MatMul").Inputs[0], OnnxDataType.Float16));
    }

    [Fact]
    public void ASequenceThatWouldNeedACastIsRefused()
    {
        var model = new OnnxModelBuilder()
            .Input("x", OnnxType.Float, "N", 3)
            .Node("Relu", ["x"], ["r"])
            .Node("SequenceConstruct", ["r", "r"], ["seq"])
            .Node("ConcatFromSequence", ["seq"], ["y"], ("axis", 0L))
            .Output("y", OnnxType.Float, "M", 3)
            .Build();
        var error = Assert.Throws<NotSupportedException>(() => Rewrite(model, out _, new PrecisionRewriteOptions { BlockedOps = ["ConcatFromSequence"] }));
        Assert.Contains("'seq' is a sequence", error.Message);
        // Converted throughout, no cast is needed inside and the model runs.
        var inputs = new OrtCpu.Input("x", PrecisionTestModels.Weights(new Random(1), 6, 1f), [2, 3]);
        Assert.True(OrtCpu.RelativeError(OrtCpu.Run(model, inputs)["y"].Values, OrtCpu.Run(Rewrite(model, out _), inputs)["y"].Values) < 5e-3);
    }

    [Fact]
    public void WithoutKeepIoTypesTheGraphTakesAndGivesFloat16()
    {
        var rewritten = Rewrite(TestModels.Mlp().Build(), out var report, new PrecisionRewriteOptions { KeepIoTypes = false });
        Assert.Equal(0, report.CastsInserted);
        using var session = new InferenceSession(rewritten);
        Assert.Equal(Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float16, session.InputMetadata["features"].ElementDataType);
        Assert.All(session.OutputMetadata.Values, o => Assert.Equal(Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float16, o.ElementDataType));
    }

    [Fact]
    public void IntegerAndDoublePathsAreUntouched()
    {
        var model = TestModels.MultiIo().Build();
        var rewritten = Rewrite(model, out _);
        var random = new Random(8);
        OrtCpu.Input[] inputs =
        [
            new("ids", Enumerable.Range(0, 12).Select(_ => (long)random.Next(10)).ToArray(), [3, 4]),
            new("dense", PrecisionTestModels.Weights(random, 24, 1f), [3, 8]),
            new("count", new[] { 1, 2, 3 }, [3, 1]),
            new("flag", new[] { true, false, true }, [3, 1]),
            new("weights64", new[] { 0.1, 1e-9, 1e20, -2.5, 3.25, 7.0 }, [3, 2]),
        ];
        var expected = OrtCpu.Run(model, inputs);
        var actual = OrtCpu.Run(rewritten, inputs);
        foreach (var name in new[] { "ids_next", "big_ids", "not_flag", "double_out", "count_twice" })
            Assert.Equal(expected[name], actual[name], (a, b) => a.Type == b.Type && a.Values.SequenceEqual(b.Values));
        foreach (var name in new[] { "logits", "scaled" })
            Assert.True(OrtCpu.RelativeError(expected[name].Values, actual[name].Values) < 5e-3, name);
    }
}
