using TrtMLNet.Backends;
using TrtMLNet.Onnx;
using TrtMLNet.Tests.Models;

namespace TrtMLNet.Tests.Onnx;

/// <summary>The ONNX reader: signature, weights and metadata straight from the protobuf, and the two edits TrtMLNet makes.</summary>
public class OnnxModelFileTests
{
    [Fact]
    public void ReadsInputsOutputsAndWeights()
    {
        var file = OnnxModelReader.Read(TestModels.Mlp().Build(), "mlp");
        var input = Assert.Single(file.Inputs);
        Assert.Equal("features", input.Name);
        Assert.Equal(TensorElementType.Float32, input.ElementType);
        Assert.Equal([-1, 20], input.Shape);
        Assert.Equal(["N", null], input.DimNames);
        Assert.Equal(["scores", "probabilities"], file.Outputs.Select(o => o.Name));
        Assert.Equal(4, file.InitializerCount);
        Assert.Equal((20 * 64 + 64 + 64 * 3 + 3) * 4, file.InitializerBytes);
    }

    [Fact]
    public void TypesNoColumnCarriesAreMarkedWithTheirName()
    {
        var bytes = new OnnxModelBuilder().Input("small", (OnnxType)3, "N", 4).Node("Identity", ["small"], ["out"]).Output("out", (OnnxType)3, "N", 4).Build();
        var tensor = Assert.Single(OnnxModelReader.Read(bytes, "int8").Inputs);
        Assert.Equal(TensorElementType.Unsupported, tensor.ElementType);
        Assert.Equal("int8", tensor.TypeName);
    }

    [Fact]
    public void HalfTypesAreCarriedByFloatColumns()
    {
        var bytes = new OnnxModelBuilder().Input("half", OnnxType.Float16, "N", 4).Node("Identity", ["half"], ["out"]).Output("out", OnnxType.Float16, "N", 4).Build();
        var tensor = Assert.Single(OnnxModelReader.Read(bytes, "half").Inputs);
        Assert.Equal(TensorElementType.Float16, tensor.ElementType);
        Assert.Equal("float16", tensor.TypeName);
        Assert.Equal(Microsoft.ML.Data.NumberDataViewType.Single, tensor.ElementType.ToDataViewType());
    }

    [Fact]
    public void MetadataAppendedKeepsTheModelIntact()
    {
        var original = TestModels.MultiIo().Build();
        var edited = OnnxModelEditor.WithMetadata(original, "trtmlnet.options", "{\"BatchSize\":7}");
        Assert.Equal(original, edited.Take(original.Length));
        var file = OnnxModelReader.Read(edited, "edited");
        Assert.Equal("{\"BatchSize\":7}", file.Metadata["trtmlnet.options"]);
        Assert.Equal(OnnxModelReader.Read(original, "original").Inputs.Select(i => i.ToString()), file.Inputs.Select(i => i.ToString()));
    }

    [Fact]
    public void OpeningTheBatchMakesEveryLeadingDimensionSymbolic()
    {
        var fixedBatch = TestModels.Mlp(batch: 1).Build();
        Assert.Equal(1, OnnxModelReader.Read(fixedBatch, "fixed").Inputs[0].Shape[0]);
        var opened = OnnxModelReader.Read(OnnxModelEditor.WithOpenBatch(fixedBatch), "opened");
        Assert.All(opened.Inputs.Concat(opened.Outputs), t =>
        {
            Assert.Equal(-1, t.Shape[0]);
            Assert.Equal("batch", t.DimNames[0]);
        });
        Assert.Equal(20, opened.Inputs[0].Shape[1]);
        Assert.Equal(OnnxModelReader.Read(fixedBatch, "fixed").InitializerBytes, opened.InitializerBytes);
    }

    [Fact]
    public void InputsThatAreInitializersAreNotInputs()
    {
        // Old exporters list initializers among the graph inputs; they are weights, not columns.
        var bytes = new OnnxModelBuilder()
            .Input("x", OnnxType.Float, "N", 2).Input("w", OnnxType.Float, 2, 2)
            .Initializer("w", [1f, 0f, 0f, 1f], 2, 2)
            .Node("MatMul", ["x", "w"], ["y"]).Output("y", OnnxType.Float, "N", 2).Build();
        Assert.Equal(["x"], OnnxModelReader.Read(bytes, "old").Inputs.Select(i => i.Name));
    }
}
