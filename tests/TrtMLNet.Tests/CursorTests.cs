using Microsoft.ML;
using Microsoft.ML.Data;
using TrtMLNet.Tests.Models;
using TrtMLNet.Tests.Support;

namespace TrtMLNet.Tests;

/// <summary>The IDataView contract: laziness, active columns only, row order under parallel cursors, PredictionEngine, schemas.</summary>
public class CursorTests
{
    private const int Width = 5;

    private sealed class Row
    {
        [VectorType(Width)] public float[] x { get; set; } = [];
        public int Id { get; set; }
    }

    private static List<Row> Rows(int count, int seed = 9)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(i => new Row { Id = i, x = Enumerable.Range(0, Width).Select(_ => (float)random.NextDouble()).ToArray() }).ToList();
    }

    [Fact]
    public void NothingRunsUntilARowIsReadAndOnlyActiveOutputsAreComputed()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Rows(100));
        var engine = new MarkingEngine(Width);
        using var transformer = TestEngines.Fit(engine, MarkingEngine.Signature(Width), data, new TensorRtOptions { BatchSize = 32 });
        var scored = transformer.Transform(data);
        Assert.Equal(0, engine.Executions);

        using (var cursor = scored.GetRowCursor([scored.Schema["Id"]]))
            while (cursor.MoveNext()) { }
        Assert.Equal(0, engine.Executions); // no output asked for: no scoring at all

        var z = TestData.Column<float>(scored, "z");
        Assert.Equal(100, z.Count);
        Assert.Equal(4, engine.Executions); // 32 + 32 + 32 + 4
        Assert.All(engine.RequestedOutputs, o => Assert.Equal(["z"], o));
    }

    /// <summary>On an engine tuned per shape, 70 rows in batches of 32: the last 6 run padded to the full batch, or to the smallest bucket that holds them.</summary>
    [Theory]
    [InlineData(null, new[] { 32 }, 96)]                          // 32 + 32 + (6 run as 32)
    [InlineData(new[] { 16, 4, 8, 4, 32 }, new[] { 4, 8, 16, 32 }, 72)] // 32 + 32 + (6 run as 8)
    public void OnAnEngineTunedPerShapeAPartialBatchRunsPaddedToTheSmallestSizeThatHoldsIt(int[]? buckets, int[] sizes, int rowsRun)
    {
        var ml = new MLContext(seed: 1);
        var rows = Rows(70);
        var data = ml.Data.LoadFromEnumerable(rows);
        MarkingEngine? engine = null;
        var options = new TensorRtOptions { BatchSize = 32, BatchBuckets = buckets };
        using var transformer = TestEngines.Fit(o => engine = new MarkingEngine(Width) { TunedBatchSizes = o.BatchSizes }, MarkingEngine.Signature(Width), data, options);

        var z = TestData.Column<float>(transformer.Transform(data), "z");

        Assert.Equal(sizes, engine!.TunedBatchSizes);
        Assert.Equal(sizes, transformer.PaddedBatchSizes);
        Assert.Equal(3, engine.Executions);
        Assert.Equal(rowsRun, engine.Rows);
        Assert.Equal(70, z.Count);
        for (var i = 0; i < rows.Count; i++)
            Assert.Equal(rows[i].x.Sum(), Assert.Single(z[i]), 4);
    }

    [Fact]
    public void BatchBucketsOnAModelThatFixesItsBatchAreIgnoredSayingSoAndNamingTheModel()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Rows(4));
        var fixedBatch = new Models.OnnxModelBuilder()
            .Input("x", Models.OnnxType.Float, 8, Width)
            .Node("ReduceSum", ["x"], ["z"], ("axes", new long[] { 1 }), ("keepdims", 1L))
            .Output("z", Models.OnnxType.Float, 8, 1)
            .Build();
        var options = new TensorRtOptions { BatchSize = 8, BatchBuckets = [2] };
        var messages = new List<string>();
        IReadOnlyList<int>? sizes = null;

        using var transformer = TestEngines.Fit(o => { sizes = o.BatchSizes; return new MarkingEngine(Width); }, fixedBatch, data, options,
            new Scoring.FitEnvironment(null, null, _ => { }, messages.Add));

        Assert.Equal([8], sizes!);
        Assert.Equal([8], transformer.PaddedBatchSizes!);
        Assert.Contains(messages, w => w.Contains("test model fixes its batch dimension at 8", StringComparison.Ordinal) && w.Contains("BatchBuckets (2) do not apply"));
    }

    [Fact]
    public void ParallelCursorsServeEveryRowWithItsOwnOutputsAndMergeBackInOrder()
    {
        var ml = new MLContext(seed: 1);
        var rows = Rows(5000);
        var data = ml.Data.Cache(ml.Data.LoadFromEnumerable(rows));
        var engine = new MarkingEngine(Width);
        using var transformer = TestEngines.Fit(engine, MarkingEngine.Signature(Width), data, new TensorRtOptions { BatchSize = 64, Lanes = 3 });
        var scored = transformer.Transform(data);

        var cursors = scored.GetRowCursorSet(scored.Schema, 4);
        Assert.True(cursors.Length > 1, "The cached source should split into several cursors.");
        var seen = new System.Collections.Concurrent.ConcurrentBag<(long Batch, int Order, int Id)>();
        Parallel.ForEach(cursors, cursor =>
        {
            using (cursor)
            {
                var id = cursor.GetGetter<int>(scored.Schema["Id"]);
                var y = cursor.GetGetter<VBuffer<float>>(scored.Schema["y"]);
                int idValue = 0, order = 0;
                VBuffer<float> yValue = default;
                long lastBatch = -1;
                while (cursor.MoveNext())
                {
                    id(ref idValue);
                    y(ref yValue);
                    Assert.Equal(rows[idValue].x.Select(v => v + 1), yValue.DenseValues());
                    Assert.True(cursor.Batch >= lastBatch, "Batch ids of one cursor must not go back.");
                    lastBatch = cursor.Batch;
                    seen.Add((cursor.Batch, order++, idValue));
                }
            }
        });
        // ML.NET merges parallel cursors by their batch ids; merging that way restores the source's order.
        var merged = seen.GroupBy(s => s.Batch).OrderBy(g => g.Key).SelectMany(g => g.OrderBy(s => s.Order)).Select(s => s.Id).ToList();
        Assert.Equal(Enumerable.Range(0, rows.Count), merged);
    }

    [Fact]
    public void PredictionEngineScoresSingleRows()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.Mlp(ml, 40);
        using var transformer = ml.Transforms.ApplyTensorRt(TestModels.MlpPath, batchSize: 16).Fit(data);
        var expected = TestData.Column<float>(transformer.Transform(data), "probabilities");
        var engine = ml.Model.CreatePredictionEngine<MlpRow, MlpPrediction>(transformer);
        var inputs = ml.Data.CreateEnumerable<MlpRow>(data, reuseRowObject: false).ToList();
        for (var i = 0; i < inputs.Count; i++)
            Assert.Equal(expected[i], engine.Predict(inputs[i]).Probabilities);
        engine.Dispose();
    }

    private sealed class MlpPrediction
    {
        [ColumnName("probabilities")] public float[] Probabilities { get; set; } = [];
    }

    [Fact]
    public void EstimatorAndTransformerAgreeOnTheSchema()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.MultiIo(ml, 3);
        var estimator = ml.Transforms.ApplyTensorRt(TestModels.MultiIoPath);
        var shape = estimator.GetOutputSchema(Schemas.ShapeOf(data.Schema));
        using var transformer = estimator.Fit(data);
        var schema = transformer.GetOutputSchema(data.Schema);
        foreach (var column in shape)
        {
            var actual = schema[column.Name];
            var kind = actual.Type is VectorDataViewType { IsKnownSize: true } ? SchemaShape.Column.VectorKind.Vector : SchemaShape.Column.VectorKind.Scalar;
            Assert.Equal(column.Kind, kind);
            Assert.Equal(column.ItemType, actual.Type is VectorDataViewType v ? v.ItemType : actual.Type);
        }
        Assert.Equal(shape.Count, schema.Count);
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Int64, 4), schema["ids_next"].Type);
    }

    [Fact]
    public void TwoStagesShareTheDevicesPool()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.Mlp(ml, 50);
        // Files of their own, so this test's engines can be told from other tests' on the shared CPU pool.
        var first = Path.Combine(TestModels.Folder, "mlp-stage-one.onnx");
        var second = Path.Combine(TestModels.Folder, "mlp-stage-two.onnx");
        File.Copy(TestModels.MlpPath, first, overwrite: true);
        File.Copy(TestModels.MlpPath, second, overwrite: true);
        var pipeline = ml.Transforms.ApplyTensorRt(new TensorRtOptions { ModelFile = first, OutputColumns = ["scores"], BatchSize = 8 })
            .Append(ml.Transforms.CopyColumns("features2", "features"))
            .Append(ml.Transforms.ApplyTensorRt(new TensorRtOptions { ModelFile = second, OutputColumns = ["probabilities"], BatchSize = 32 }));
        var model = pipeline.Fit(data);
        var scored = model.Transform(data);
        Assert.Equal(50, TestData.Column<float>(scored, "scores").Count);
        Assert.Equal(50, TestData.Column<float>(scored, "probabilities").Count);
        var stages = model.OfType<TensorRtTransformer>().ToList();
        Assert.Same(stages[0].Fitted.Runtime.Pool, stages[1].Fitted.Runtime.Pool);
        // Each stage's report is the device's: it lists the other stage's engine too.
        foreach (var stage in stages)
        {
            var engines = stage.GetMemoryReport().Engines.Select(e => e.Model).ToList();
            Assert.Contains(engines, m => m.Contains("mlp-stage-one.onnx"));
            Assert.Contains(engines, m => m.Contains("mlp-stage-two.onnx"));
        }
        foreach (var stage in stages)
            stage.Dispose();
    }

    [Fact]
    public void CpuMemoryReportStatesWhatOnnxRuntimeStatesAndNoMore()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.Mlp(ml, 5);
        // The CPU pool is shared by every test running now: find this engine by a file of its own.
        var path = Path.Combine(TestModels.Folder, "mlp-for-memory-report.onnx");
        File.Copy(TestModels.MlpPath, path, overwrite: true);
        using var transformer = ml.Transforms.ApplyTensorRt(path).Fit(data);
        var report = transformer.GetMemoryReport();
        var engine = report.Engines.Single(e => e.Model.Contains("mlp-for-memory-report.onnx"));
        Assert.Equal((20 * 64 + 64 + 64 * 3 + 3) * 4, engine.WeightsStatedBytes);
        Assert.All(engine.Contexts, c => Assert.Null(c.PersistentBytes));
        Assert.All(engine.Contexts, c => Assert.Null(c.ScratchNeedBytes));
        Assert.False(report.TotalsComplete);
        Assert.Null(report.MeasuredDeviceBytes);
        Assert.Contains("not known", report.ToString());
    }
}
