using System.IO.Compression;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Onnx;
using TrtMLNet.Tests.Models;
using TrtMLNet.Tests.Support;

namespace TrtMLNet.Tests;

/// <summary>
/// Saving writes a standard ML.NET model (the stage as an OnnxTransformer over the same ONNX bytes, with
/// TrtMLNet's options in the bytes' metadata); ML.NET's own Load gives equal outputs, and
/// LoadWithTensorRt gives the batched TensorRtTransformer back.
/// </summary>
public class SaveLoadTests
{
    [Fact]
    public void PipelineRoundTripsThroughMlNetAndBackToTensorRt()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.Mlp(ml, 77);
        var pipeline = ml.Transforms.CopyColumns("features_copy", "features")
            .Append(ml.Transforms.ApplyTensorRt(new TensorRtOptions { ModelFile = TestModels.MlpPath, BatchSize = 16, OutputColumns = ["probabilities"] }));
        var model = pipeline.Fit(data);
        var expected = TestData.Column<float>(model.Transform(data), "probabilities");
        var path = Path.Combine(TestModels.Folder, "mlp-pipeline.zip");
        ml.Model.Save(model, data.Schema, path);
        (model.LastTransformer as IDisposable)?.Dispose();

        // Any ML.NET application loads it, as an OnnxTransformer.
        var plain = ml.Model.Load(path, out var schema);
        Assert.Contains((IEnumerable<ITransformer>)plain, t => t is OnnxTransformer);
        TestData.AssertClose(expected, TestData.Column<float>(plain.Transform(data), "probabilities"), 1e-5, "ML.NET load");

        // TrtMLNet turns the stage back into a TensorRtTransformer with its options.
        var restored = ml.Model.LoadWithTensorRt(path, out _);
        var stage = Assert.Single(((IEnumerable<ITransformer>)restored).OfType<TensorRtTransformer>());
        Assert.Equal(16, stage.BatchSize);
        Assert.Equal(["probabilities"], stage.OutputColumnNames);
        TestData.AssertClose(expected, TestData.Column<float>(restored.Transform(data), "probabilities"), 1e-5, "TrtMLNet load");
        stage.Dispose();

        using var zip = ZipFile.OpenRead(path);
        Assert.Contains(zip.Entries, e => e.FullName.EndsWith("OnnxModel", StringComparison.Ordinal));
    }

    [Fact]
    public void AModelSavedWithoutItsInputSchemaLoadsFromItsSavedOptions()
    {
        // Save(model, null, path) keeps no input schema; neither does ML.NET when a column type cannot be saved.
        var ml = new MLContext(seed: 1);
        var data = TestData.Mlp(ml, 21);
        using var transformer = ml.Transforms.ApplyTensorRt(new TensorRtOptions { ModelFile = TestModels.MlpPath, BatchSize = 8 }).Fit(data);
        var expected = TestData.Column<float>(transformer.Transform(data), "probabilities");
        var path = Path.Combine(TestModels.Folder, "mlp-no-schema.zip");
        ml.Model.Save(transformer, null, path);

        var restored = ml.Model.LoadWithTensorRt(path, out var schema);

        Assert.Null(schema);
        using var stage = Assert.IsType<TensorRtTransformer>(restored);
        Assert.Equal(8, stage.BatchSize);
        TestData.AssertClose(expected, TestData.Column<float>(restored.Transform(data), "probabilities"), 1e-5, "TrtMLNet load without a schema");
    }

    [Fact]
    public void ModelWithOpenSequenceLengthLoadsInPlainMlNetToo()
    {
        // ApplyOnnxModel alone cannot run this model; the saved stand-in carries the row shapes for it.
        var ml = new MLContext(seed: 1);
        var data = TestData.Encoder(ml, 9);
        using var transformer = ml.Transforms.ApplyTensorRt(TestModels.TinyEncoderPath, batchSize: 4).Fit(data);
        var expected = TestData.Column<float>(transformer.Transform(data), "pooled");
        var path = Path.Combine(TestModels.Folder, "encoder.zip");
        ml.Model.Save(transformer, data.Schema, path);

        var plain = ml.Model.Load(path, out _);
        TestData.AssertClose(expected, TestData.Column<float>(plain.Transform(data), "pooled"), 1e-5, "ML.NET load");
        var restored = ml.Model.LoadWithTensorRt(path, out _);
        var stage = Assert.IsType<TensorRtTransformer>(restored);
        TestData.AssertClose(expected, TestData.Column<float>(stage.Transform(data), "pooled"), 1e-5, "TrtMLNet load");
        stage.Dispose();
    }

    [Fact]
    public void OptionsCanBeChangedOnLoad()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.Mlp(ml, 10);
        using var transformer = ml.Transforms.ApplyTensorRt(TestModels.MlpPath, batchSize: 4).Fit(data);
        var path = Path.Combine(TestModels.Folder, "mlp-options.zip");
        ml.Model.Save(transformer, data.Schema, path);
        var restored = ml.Model.LoadWithTensorRt(path, out _, options => options.BatchSize = 3);
        var stage = Assert.IsType<TensorRtTransformer>(restored);
        Assert.Equal(3, stage.BatchSize);
        stage.Dispose();
    }
}
