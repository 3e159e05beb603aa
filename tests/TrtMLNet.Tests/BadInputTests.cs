using Microsoft.ML;
using Microsoft.ML.Data;
using TrtMLNet.Tests.Models;
using TrtMLNet.Tests.Support;

namespace TrtMLNet.Tests;

/// <summary>
/// Every bad input fails at ApplyTensorRt or Fit (never midway through scoring) with a message that
/// names the file, column or tensor, and what was expected against what was found.
/// </summary>
public class BadInputTests
{
    private readonly MLContext _ml = new(seed: 1);

    [Fact]
    public void MissingModelFileNamesTheFile()
    {
        var path = Path.Combine(TestModels.Folder, "does-not-exist.onnx");
        var e = Assert.Throws<FileNotFoundException>(() => _ml.Transforms.ApplyTensorRt(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void MissingFolderNamesTheFile()
    {
        var path = Path.Combine(TestModels.Folder, "no-such-folder", "model.onnx");
        var e = Assert.Throws<FileNotFoundException>(() => _ml.Transforms.ApplyTensorRt(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void UnreadableModelFileNamesTheFile()
    {
        // A folder where a file should be cannot be read, whoever runs the test (root reads any file).
        var path = Directory.CreateDirectory(Path.Combine(TestModels.Folder, "a-folder.onnx")).FullName;
        var e = Assert.Throws<IOException>(() => _ml.Transforms.ApplyTensorRt(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("cannot be read", e.Message);
    }

    [Theory]
    [InlineData("this is text, not a protobuf message")]
    [InlineData("")]
    public void BytesThatAreNotOnnxNameTheFile(string content)
    {
        var path = Path.Combine(TestModels.Folder, $"not-onnx-{content.Length}.onnx");
        File.WriteAllText(path, content);
        var e = Assert.Throws<InvalidDataException>(() => _ml.Transforms.ApplyTensorRt(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("not an ONNX model", e.Message.Replace("is empty", "not an ONNX model"));
    }

    [Fact]
    public void ValidProtobufThatIsNotAModelIsRejected()
    {
        // A tensor's bytes parse as protobuf but have no graph.
        var path = Path.Combine(TestModels.Folder, "protobuf-not-model.onnx");
        File.WriteAllBytes(path, [0x08, 0x03, 0x10, 0x01]);
        var e = Assert.Throws<InvalidDataException>(() => _ml.Transforms.ApplyTensorRt(path));
        Assert.Contains("no graph", e.Message);
    }

    [Fact]
    public void MissingInputColumnNamesColumnAndTensor()
    {
        var data = _ml.Data.LoadFromEnumerable(new[] { new { other = 1f } });
        var estimator = _ml.Transforms.ApplyTensorRt(TestModels.MlpPath);
        var e = Assert.Throws<ArgumentException>(() => estimator.Fit(data));
        Assert.Contains("'features'", e.Message);
        Assert.Contains("[N,20]", e.Message);
        var schemaError = Assert.Throws<ArgumentException>(() => estimator.GetOutputSchema(Schemas.ShapeOf(data.Schema)));
        Assert.Contains("'features'", schemaError.Message);
    }

    private sealed class DoubleFeatures
    {
        [ColumnName("features"), VectorType(20)] public double[] Features { get; set; } = new double[20];
    }

    [Fact]
    public void WrongItemTypeNamesBothTypes()
    {
        var data = _ml.Data.LoadFromEnumerable(new[] { new DoubleFeatures() });
        var e = Assert.Throws<ArgumentException>(() => _ml.Transforms.ApplyTensorRt(TestModels.MlpPath).Fit(data));
        Assert.Contains("'features'", e.Message);
        Assert.Contains("Double", e.Message);
        Assert.Contains("Single", e.Message);
        Assert.Throws<ArgumentException>(() => _ml.Transforms.ApplyTensorRt(TestModels.MlpPath).GetOutputSchema(Schemas.ShapeOf(data.Schema)));
    }

    private sealed class ShortFeatures
    {
        [ColumnName("features"), VectorType(10)] public float[] Features { get; set; } = new float[10];
    }

    [Fact]
    public void WrongVectorSizeNamesBothSizes()
    {
        var data = _ml.Data.LoadFromEnumerable(new[] { new ShortFeatures() });
        var e = Assert.Throws<ArgumentException>(() => _ml.Transforms.ApplyTensorRt(TestModels.MlpPath).Fit(data));
        Assert.Contains("'features'", e.Message);
        Assert.Contains("10 values", e.Message);
        Assert.Contains("20", e.Message);
    }

    private sealed class VariableFeatures
    {
        [ColumnName("features")] public float[] Features { get; set; } = new float[20];
    }

    [Fact]
    public void VariableSizeColumnIsCheckedRowByRowWithTheRowNamed()
    {
        // The model fixes 20 per row, so a variable-size column is accepted at fit time; a row of another size is named.
        var data = _ml.Data.LoadFromEnumerable(new[] { new VariableFeatures(), new VariableFeatures { Features = new float[3] } });
        using var model = _ml.Transforms.ApplyTensorRt(TestModels.MlpPath).Fit(data);
        var e = Assert.Throws<InvalidOperationException>(() => TestData.Column<float>(model.Transform(data), "scores"));
        Assert.Contains("Row 1", e.Message);
        Assert.Contains("3 values", e.Message);
    }

    [Fact]
    public void OutputTheModelLacksIsNamedWithTheOutputsItHas()
    {
        var e = Assert.Throws<ArgumentException>(() => _ml.Transforms.ApplyTensorRt("logits", "features", TestModels.MlpPath));
        Assert.Contains("'logits'", e.Message);
        Assert.Contains("'scores'", e.Message);
        Assert.Contains("'probabilities'", e.Message);
    }

    [Fact]
    public void InputTheModelLacksIsNamed()
    {
        var e = Assert.Throws<ArgumentException>(() => _ml.Transforms.ApplyTensorRt("scores", "pixels", TestModels.MlpPath));
        Assert.Contains("'pixels'", e.Message);
        Assert.Contains("'features'", e.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void BatchSizeBelowOneIsRejected(int batchSize)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => _ml.Transforms.ApplyTensorRt(TestModels.MlpPath, batchSize: batchSize));
        Assert.Contains("BatchSize", e.Message);
        Assert.Contains(batchSize.ToString(), e.Message);
    }

    [Fact]
    public void ShapeDictionaryForAnUnknownTensorIsNamed()
    {
        var data = TestData.Encoder(_ml, 2);
        var options = new TensorRtOptions { ModelFile = TestModels.TinyEncoderPath, ShapeDictionary = new Dictionary<string, int[]> { ["tokens"] = [1, 12] } };
        var e = Assert.Throws<ArgumentException>(() => _ml.Transforms.ApplyTensorRt(options).Fit(data));
        Assert.Contains("'tokens'", e.Message);
    }

    [Fact]
    public void ExplicitGpuBackendWithoutGpuSaysWhyAndHowToFallBack()
    {
        Assert.SkipWhen(Native.Cuda.CudaDriver.IsAvailable(out _), "This machine has a GPU; the test is about machines without one.");
        var data = TestData.Mlp(_ml, 3);
        var options = new TensorRtOptions { ModelFile = TestModels.MlpPath, Backend = TensorRtBackend.OnnxRuntimeCuda };
        var e = Assert.Throws<InvalidOperationException>(() => _ml.Transforms.ApplyTensorRt(options).Fit(data));
        Assert.Contains("OnnxRuntimeCuda", e.Message);
        Assert.Contains("GPU", e.Message);
        Assert.Contains("FallbackToCpu", e.Message);

        options.FallbackToCpu = true;
        using var model = _ml.Transforms.ApplyTensorRt(options).Fit(data);
        Assert.Equal(TensorRtBackend.OnnxRuntimeCpu, model.Backend);
    }

    [Fact]
    public void ScoringAfterDisposeSaysSo()
    {
        var data = TestData.Mlp(_ml, 3);
        var model = _ml.Transforms.ApplyTensorRt(TestModels.MlpPath).Fit(data);
        model.Dispose();
        var e = Assert.Throws<ObjectDisposedException>(() => TestData.Column<float>(model.Transform(data), "scores"));
        Assert.Contains("disposed", e.Message);
    }

    [Fact]
    public void DisposingWhileACursorIsOpenLetsTheCursorFinish()
    {
        var data = TestData.Mlp(_ml, 500);
        var model = _ml.Transforms.ApplyTensorRt(TestModels.MlpPath, batchSize: 16).Fit(data);
        var scored = model.Transform(data);
        using var cursor = scored.GetRowCursor(scored.Schema);
        var getter = cursor.GetGetter<VBuffer<float>>(scored.Schema["scores"]);
        VBuffer<float> value = default;
        Assert.True(cursor.MoveNext());
        model.Dispose();
        var rows = 1;
        while (cursor.MoveNext())
        {
            getter(ref value);
            rows++;
        }
        Assert.Equal(500, rows);
        Assert.Throws<ObjectDisposedException>(() => scored.GetRowCursor(scored.Schema).MoveNext());
    }
}
