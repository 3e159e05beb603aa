using Microsoft.ML;
using TrtMLNet.Tests.Models;
using TrtMLNet.Tests.Support;

namespace TrtMLNet.Tests;

/// <summary>
/// ApplyTensorRt (batched, ONNX Runtime on the CPU) against ML.NET's ApplyOnnxModel (row by row) on the
/// same model and data: every value within 1e-5 relative, integers and booleans exactly.
/// </summary>
public class ParityWithApplyOnnxModelTests
{
    private const double Tolerance = 1e-5;

    [Theory]
    [InlineData(1)]
    [InlineData(64)]
    [InlineData(300)]
    [InlineData(1000)]
    public void MlpMatchesApplyOnnxModelAtAnyBatchSize(int batchSize)
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.Mlp(ml, 301);
        var reference = ml.Transforms.ApplyOnnxModel(TestModels.MlpPath).Fit(data).Transform(data);
        using var model = ml.Transforms.ApplyTensorRt(TestModels.MlpPath, batchSize: batchSize).Fit(data);
        var scored = model.Transform(data);
        foreach (var output in new[] { "scores", "probabilities" })
            TestData.AssertClose(TestData.Column<float>(reference, output), TestData.Column<float>(scored, output), Tolerance, output);
    }

    [Fact]
    public void MultipleInputsAndOutputsOfEveryTypeMatch()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.MultiIo(ml, 123);
        var reference = ml.Transforms.ApplyOnnxModel(TestModels.MultiIoPath).Fit(data).Transform(data);
        using var model = ml.Transforms.ApplyTensorRt(TestModels.MultiIoPath, batchSize: 16).Fit(data);
        var scored = model.Transform(data);

        TestData.AssertClose(TestData.Column<float>(reference, "logits"), TestData.Column<float>(scored, "logits"), Tolerance, "logits");
        TestData.AssertClose(TestData.Column<float>(reference, "scaled"), TestData.Column<float>(scored, "scaled"), Tolerance, "scaled");
        Assert.Equal(TestData.Column<long>(reference, "ids_next"), TestData.Column<long>(scored, "ids_next"));
        Assert.Equal(TestData.Column<bool>(reference, "big_ids"), TestData.Column<bool>(scored, "big_ids"));
        Assert.Equal(TestData.Column<bool>(reference, "not_flag"), TestData.Column<bool>(scored, "not_flag"));
        Assert.Equal(TestData.Column<double>(reference, "double_out"), TestData.Column<double>(scored, "double_out"));
        Assert.Equal(TestData.Column<int>(reference, "count_twice"), TestData.Column<int>(scored, "count_twice"));
    }

    [Fact]
    public void EncoderWithOpenBatchAndSequenceNeedsNoShapeDictionary()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.Encoder(ml, 50);

        // ApplyOnnxModel cannot run two open dimensions without being told the sequence length.
        var unshaped = ml.Transforms.ApplyOnnxModel(TestModels.TinyEncoderPath).Fit(data).Transform(data);
        Assert.ThrowsAny<Exception>(() => TestData.Column<float>(unshaped, "pooled"));

        var shapes = new Dictionary<string, int[]>
        {
            ["input_ids"] = [1, EncoderRow.Sequence],
            ["attention_mask"] = [1, EncoderRow.Sequence],
        };
        var reference = ml.Transforms.ApplyOnnxModel(["last_hidden_state", "pooled"], ["input_ids", "attention_mask"], TestModels.TinyEncoderPath, shapes, null, false, 100)
            .Fit(data).Transform(data);
        using var model = ml.Transforms.ApplyTensorRt(TestModels.TinyEncoderPath, batchSize: 8).Fit(data);
        var scored = model.Transform(data);

        Assert.Equal(EncoderRow.Sequence * TestModels.EncoderHidden, ((Microsoft.ML.Data.VectorDataViewType)scored.Schema["last_hidden_state"].Type).Size);
        foreach (var output in new[] { "last_hidden_state", "pooled" })
            TestData.AssertClose(TestData.Column<float>(reference, output), TestData.Column<float>(scored, output), Tolerance, output);
    }

    [Fact]
    public void ResNet18WithItsFixedBatchOfOneMatches()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.Cached(ml, ResNet18.RandomImages(ml, 5));
        var reference = ml.Transforms.ApplyOnnxModel(ResNet18.Output, ResNet18.Input, ResNet18.Path).Fit(data).Transform(data);
        using var model = ml.Transforms.ApplyTensorRt(ResNet18.Output, ResNet18.Input, ResNet18.Path, batchSize: 32).Fit(data);
        Assert.Equal(1, model.BatchSize);
        TestData.AssertClose(TestData.Column<float>(reference, ResNet18.Output), TestData.Column<float>(model.Transform(data), ResNet18.Output), Tolerance, ResNet18.Output);
    }

    [Fact]
    public void ResNet18WithItsBatchDimensionOpenedMatchesRowByRow()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.Cached(ml, ResNet18.RandomImages(ml, 5, seed: 19));
        var reference = ml.Transforms.ApplyOnnxModel(ResNet18.Output, ResNet18.Input, ResNet18.Path).Fit(data).Transform(data);
        var options = new TensorRtOptions
        {
            ModelFile = ResNet18.Path,
            InputColumns = [ResNet18.Input],
            OutputColumns = [ResNet18.Output],
            OpenBatchDimension = true,
            BatchSize = 4, // a full batch and a partial one
        };
        using var model = ml.Transforms.ApplyTensorRt(options).Fit(data);
        Assert.Equal(4, model.BatchSize);
        TestData.AssertClose(TestData.Column<float>(reference, ResNet18.Output), TestData.Column<float>(model.Transform(data), ResNet18.Output), Tolerance, ResNet18.Output);
    }

    [Fact]
    public void OpeningTheBatchOfAModelThatBakesItInFailsAtFit()
    {
        // Reshape to [1, 60] folds every row of a batch into one: opening the batch must be refused.
        var path = new OnnxModelBuilder()
            .Input("x", OnnxType.Float, 1, 20)
            .Initializer("shape", new long[] { 1, 60 }, 2)
            .Initializer("w", Enumerable.Repeat(0.5f, 20 * 60).ToArray(), 20, 60)
            .Node("MatMul", ["x", "w"], ["h"])
            .Node("Reshape", ["h", "shape"], ["y"])
            .Output("y", OnnxType.Float, 1, 60)
            .Save(Path.Combine(TestModels.Folder, "baked-batch.onnx"));
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 3).Select(_ => new XRow()).ToList());
        var options = new TensorRtOptions { ModelFile = path, OpenBatchDimension = true, BatchSize = 8 };
        var e = Assert.Throws<InvalidOperationException>(() => ml.Transforms.ApplyTensorRt(options).Fit(data));
        Assert.Contains("OpenBatchDimension", e.Message);

        options.OpenBatchDimension = false;
        using var model = ml.Transforms.ApplyTensorRt(options).Fit(data);
        Assert.Equal(1, model.BatchSize);
    }

    private sealed class XRow
    {
        [Microsoft.ML.Data.VectorType(20)] public float[] x { get; set; } = new float[20];
    }

    [Fact]
    public void FixedBatchLargerThanOneIsPaddedAndTrimmed()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.Mlp(ml, 7); // 3 full batches of 2 and a last one of 1
        var reference = ml.Transforms.ApplyOnnxModel(TestModels.MlpPath).Fit(data).Transform(data);
        using var model = ml.Transforms.ApplyTensorRt(TestModels.FixedBatchMlpPath, batchSize: 64).Fit(data);
        Assert.Equal(2, model.BatchSize);
        TestData.AssertClose(TestData.Column<float>(reference, "scores"), TestData.Column<float>(model.Transform(data), "scores"), Tolerance, "scores");
    }

    [Fact]
    public void NaNAndInfinityPassThrough()
    {
        var ml = new MLContext(seed: 1);
        var rows = Enumerable.Range(0, 10).Select(i => new MlpRow
        {
            Id = i,
            Features = Enumerable.Range(0, TestModels.MlpFeatures).Select(j => j == i ? (i % 2 == 0 ? float.NaN : float.PositiveInfinity) : 0.5f).ToArray(),
        }).ToList();
        var data = ml.Data.LoadFromEnumerable(rows);
        var reference = ml.Transforms.ApplyOnnxModel(TestModels.MlpPath).Fit(data).Transform(data);
        using var model = ml.Transforms.ApplyTensorRt(TestModels.MlpPath, batchSize: 4).Fit(data);
        var expected = TestData.Column<float>(reference, "scores");
        var actual = TestData.Column<float>(model.Transform(data), "scores");
        Assert.Contains(actual, r => r.Any(float.IsNaN));
        Assert.Equal(expected.Select(r => r.Select(v => v.ToString("R")).ToArray()), actual.Select(r => r.Select(v => v.ToString("R")).ToArray()));
    }
}
