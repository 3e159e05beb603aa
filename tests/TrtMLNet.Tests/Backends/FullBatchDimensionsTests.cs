using Microsoft.ML.Data;
using TrtMLNet.Backends;
using TrtMLNet.Backends.OnnxRuntime;
using TrtMLNet.Scoring;

namespace TrtMLNet.Tests.Backends;

/// <summary>
/// ONNX Runtime CUDA runs only full batches, so it fixes the inputs' named dimensions at them; its output
/// shapes are then asked for at the full batch only (a run at one or two rows would be refused).
/// </summary>
public class FullBatchDimensionsTests
{
    private static readonly TensorInfo Ids = new("input_ids", TensorElementType.Int64, [-1, -1], ["batch", "sequence"]);
    private static readonly TensorInfo Mask = new("attention_mask", TensorElementType.Int64, [-1, -1], ["batch", "sequence"]);

    [Fact]
    public void NamedDimensionsTakeTheFullBatchShapes()
    {
        var sizes = EngineOptions.NamedDimensions([Ids, Mask], new Dictionary<string, long[]> { ["input_ids"] = [64, 128], ["attention_mask"] = [64, 128] });
        Assert.Equal(new Dictionary<string, long> { ["batch"] = 64, ["sequence"] = 128 }, sizes);
    }

    [Fact]
    public void ANameTwoInputsSizeDifferentlyIsLeftOpen()
    {
        var sizes = EngineOptions.NamedDimensions([Ids, Mask], new Dictionary<string, long[]> { ["input_ids"] = [64, 128], ["attention_mask"] = [64, 64] });
        Assert.Equal(new Dictionary<string, long> { ["batch"] = 64 }, sizes);
    }

    [Theory]
    [InlineData(CudnnConvolutionSearch.Exhaustive, true)]
    [InlineData(CudnnConvolutionSearch.Heuristic, false)]
    public void OnlyCudaWithASearchRunsFullBatchesOnly(CudnnConvolutionSearch search, bool expected)
    {
        var options = new EngineOptions { Backend = TensorRtBackend.OnnxRuntimeCuda, Build = new EngineBuildOptions { ConvolutionSearch = search } };
        Assert.Equal(expected, OnnxRuntimeSessionOptions.RunsFullBatchesOnly(options));
        Assert.False(OnnxRuntimeSessionOptions.RunsFullBatchesOnly(options with { Backend = TensorRtBackend.OnnxRuntimeCpu }));
    }

    [Fact]
    public void OutputShapesOfAFullBatchEngineAreAskedAtTheFullBatchOnly()
    {
        var shapes = ModelShapes.Bind([Ids], ["input_ids"], _ => new VectorDataViewType(NumberDataViewType.Int64, 128),
            new Dictionary<string, int[]> { ["input_ids"] = [1, 128] }, 64, "bert", null);
        var asked = new List<long>();
        var output = new TensorInfo("pooler_output", TensorElementType.Float32, [-1, -1], ["batch", "hidden"]);
        shapes.ResolveOutputs([output], inputs =>
        {
            asked.Add(inputs["input_ids"][0]);
            return new Dictionary<string, long[]> { ["pooler_output"] = [inputs["input_ids"][0], 768] };
        }, "bert", fullBatchesOnly: true);
        Assert.Equal([64L], asked);
        Assert.Equal([768L], shapes.Outputs[0].RowShape);
    }
}
