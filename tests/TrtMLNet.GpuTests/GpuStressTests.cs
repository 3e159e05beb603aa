using Microsoft.ML;
using Microsoft.ML.Data;
using TrtMLNet.GpuTests.Support;
using TrtMLNet.Tests.Models;
using TrtMLNet.Tests.Support;

namespace TrtMLNet.GpuTests;

/// <summary>
/// Many threads, parallel cursors and transformers with different batch sizes on one GPU, for
/// thousands of batches: every row keeps its own outputs, rows stay in order, and once everything is
/// disposed the device memory is back where it started.
/// </summary>
[Collection(GpuCollection.Name)]
public class GpuStressTests
{
    [Fact]
    public async Task ThousandsOfBatchesStayCorrectAndMemoryReturns()
    {
        var cuda = Gpu.Require();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.Cache(TestData.Mlp(ml, 20_000, seed: 4));
        using (var warm = Fit(ml, data, 64))
            TestData.Column<float>(warm.Transform(data), "scores");
        var before = Gpu.FreeBytes(cuda);

        // The reference: the same model on the CPU, row by row through the same library.
        var cpuOptions = new TensorRtOptions { ModelFile = TestModels.MlpPath, Backend = TensorRtBackend.OnnxRuntimeCpu, OutputColumns = ["scores"] };
        List<float[]> expected;
        using (var cpu = ml.Transforms.ApplyTensorRt(cpuOptions).Fit(data))
            expected = TestData.Column<float>(cpu.Transform(data), "scores");

        var transformers = new[] { 7, 64, 333 }.Select(batch => Fit(ml, data, batch)).ToList();
        long batches = 0;
        var stop = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        var threads = Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            var random = new Random(t);
            while (DateTime.UtcNow < stop)
            {
                var transformer = transformers[random.Next(transformers.Count)];
                var scored = transformer.Transform(data);
                var cursors = scored.GetRowCursorSet([scored.Schema["Id"], scored.Schema["scores"]], random.Next(1, 4));
                Parallel.ForEach(cursors, cursor =>
                {
                    using (cursor)
                    {
                        var id = cursor.GetGetter<int>(scored.Schema["Id"]);
                        var scores = cursor.GetGetter<VBuffer<float>>(scored.Schema["scores"]);
                        int idValue = 0, rows = 0;
                        VBuffer<float> value = default;
                        long previousBatch = -1;
                        while (cursor.MoveNext())
                        {
                            id(ref idValue);
                            scores(ref value);
                            var want = expected[idValue];
                            var got = value.DenseValues().ToArray();
                            for (var i = 0; i < want.Length; i++)
                                Assert.True(Math.Abs(want[i] - got[i]) <= 1e-3 * Math.Max(1, Math.Abs(want[i])), $"row {idValue}: {want[i]} vs {got[i]}");
                            Assert.True(cursor.Batch >= previousBatch);
                            previousBatch = cursor.Batch;
                            rows++;
                        }
                        Interlocked.Add(ref batches, (rows + transformer.BatchSize - 1) / transformer.BatchSize);
                    }
                });
            }
        }, TestContext.Current.CancellationToken)).ToArray();
        await Task.WhenAll(threads);
        foreach (var t in transformers)
            t.Dispose();
        var after = Gpu.FreeBytes(cuda);
        var pools = Execution.ExecutionPool.LiveCount;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var afterCollect = Gpu.FreeBytes(cuda);
        await Task.Delay(2000, TestContext.Current.CancellationToken);
        var later = Gpu.FreeBytes(cuda);
        Gpu.Note($"{batches} batches; device memory free before {Gpu.MiB(before)}, after dispose {Gpu.MiB(after)} ({pools} pool(s) alive), after a GC {Gpu.MiB(afterCollect)}, 2 s later {Gpu.MiB(later)}");
        Assert.True(batches > 2000, $"only {batches} batches ran");
        Assert.Equal(0, pools);
        Assert.InRange(before - after, -(16L << 20), 16L << 20);
    }

    private static TensorRtTransformer Fit(MLContext ml, IDataView data, int batch) =>
        ml.Transforms.ApplyTensorRt(new TensorRtOptions
        {
            ModelFile = TestModels.MlpPath,
            Backend = TensorRtBackend.OnnxRuntimeCuda,
            OutputColumns = ["scores"],
            BatchSize = batch,
            MaxConcurrency = 3,
            AllowTf32 = false,
        }).Fit(data);
}
