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
///
/// "Where it started" is taken after a first, shorter round of the same work. The first concurrent use
/// of ONNX Runtime's CUDA provider leaves about 126 MiB taken in the process for good, although every
/// TrtMLNet pool, buffer and ONNX Runtime session is gone (measured on an H100: no pool alive, nothing
/// freed by a GC, nothing held in CUDA's memory pools, the per-thread stack limit unchanged; the driver
/// hands it back only when a later allocation runs short). Memory a leak would take grows with every
/// round; that one does not, so the second round is measured against the first.
/// </summary>
[Collection(GpuCollection.Name)]
public class GpuStressTests
{
    private static readonly int[] BatchSizes = [7, 64, 333];

    [Fact]
    public async Task ThousandsOfBatchesStayCorrectAndMemoryReturns()
    {
        var cuda = Gpu.Require();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.Cache(TestData.Mlp(ml, 20_000, seed: 4));

        // The reference: the same model on the CPU, through the same library.
        var cpuOptions = new TensorRtOptions { ModelFile = TestModels.MlpPath, Backend = TensorRtBackend.OnnxRuntimeCpu, OutputColumns = ["scores"] };
        List<float[]> expected;
        using (var cpu = ml.Transforms.ApplyTensorRt(cpuOptions).Fit(data))
            expected = TestData.Column<float>(cpu.Transform(data), "scores");

        var warmUp = await Round(ml, data, expected, TimeSpan.FromSeconds(5));
        var before = Gpu.FreeBytes(cuda);
        var batches = await Round(ml, data, expected, TimeSpan.FromSeconds(15));
        var after = Gpu.FreeBytes(cuda);
        var pools = Execution.ExecutionPool.LiveCount;

        Gpu.Note($"{warmUp} batches to warm up, then {batches} batches; device memory free before {Gpu.MiB(before)}, after dispose {Gpu.MiB(after)} ({pools} pool(s) alive)");
        Assert.True(batches > 2000, $"only {batches} batches ran");
        Assert.Equal(0, pools);
        // One-sided: the driver may also evict code it loaded earlier, which only frees more.
        Assert.True(before - after <= 16L << 20, $"{Gpu.MiB(before - after)} of device memory was not given back.");
    }

    /// <summary>Four threads score random transformers through cursor sets until the time is up; returns the batches run.</summary>
    private static async Task<long> Round(MLContext ml, IDataView data, List<float[]> expected, TimeSpan duration)
    {
        var transformers = BatchSizes.Select(batch => Fit(ml, data, batch)).ToList();
        long batches = 0;
        var stop = DateTime.UtcNow + duration;
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
                        var rows = CheckRows(cursor, scored.Schema, expected);
                        Interlocked.Add(ref batches, (rows + transformer.BatchSize - 1) / transformer.BatchSize);
                    }
                });
            }
        }, TestContext.Current.CancellationToken)).ToArray();
        try
        {
            await Task.WhenAll(threads);
        }
        finally
        {
            foreach (var t in transformers)
                t.Dispose();
        }
        return batches;
    }

    /// <summary>Every row's scores are that row's (by its Id), and batch ids never go back.</summary>
    private static int CheckRows(DataViewRowCursor cursor, DataViewSchema schema, List<float[]> expected)
    {
        var id = cursor.GetGetter<int>(schema["Id"]);
        var scores = cursor.GetGetter<VBuffer<float>>(schema["scores"]);
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
        return rows;
    }

    private static TensorRtTransformer Fit(MLContext ml, IDataView data, int batch) =>
        ml.Transforms.ApplyTensorRt(new TensorRtOptions
        {
            ModelFile = TestModels.MlpPath,
            Backend = TensorRtBackend.OnnxRuntimeCuda,
            OutputColumns = ["scores"],
            BatchSize = batch,
            Lanes = 3,
            AllowTf32 = false,
        }).Fit(data);
}
