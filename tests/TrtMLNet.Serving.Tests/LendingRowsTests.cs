using Microsoft.ML;
using Microsoft.ML.Data;
using TrtMLNet.Serving.Batching;
using TrtMLNet.Serving.Tests.Support;
using TrtMLNet.Tests.Models;

namespace TrtMLNet.Serving.Tests;

/// <summary>
/// A pool's rows lend the callers' arrays to a TrtMLNet stage that reads them first, so an image-sized input
/// is copied once; every other reader still gets copies, and no caller's array is ever written.
/// </summary>
public sealed class LendingRowsTests
{
    private const int Features = 80_000; // 320 KB a row: above TrtMLNet's 256 KiB threshold for lending

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public sealed class LargeInput
    {
        [ColumnName("x"), VectorType(Features)] public float[] Values { get; set; } = [];

        public float Weight;
    }

    public sealed class SumOutput
    {
        [ColumnName("sum"), VectorType(1)] public float[] Sum { get; set; } = [];
    }

    [Fact]
    public void Cursors_lend_array_members_and_their_getters_still_copy()
    {
        var ml = new MLContext(1);
        var rows = Rows(3);
        var view = new LendingRows<LargeInput>(ml, SchemaDefinition.Create(typeof(LargeInput), SchemaDefinition.Direction.Read)) { Current = rows };
        var x = view.Schema["x"];
        using var cursor = view.GetRowCursor(view.Schema);
        var lender = Assert.IsAssignableFrom<IRowArrayLender>(cursor);
        var getter = cursor.GetGetter<VBuffer<float>>(x);
        var buffer = default(VBuffer<float>);
        for (var i = 0; cursor.MoveNext(); i++)
        {
            Assert.True(lender.TryLend<float>(x, out var lent));
            Assert.Same(rows[i].Values, lent);
            Assert.False(lender.TryLend<float>(view.Schema[nameof(LargeInput.Weight)], out _));
            getter(ref buffer);
            Assert.True(buffer.GetValues().SequenceEqual(rows[i].Values));
            // Whoever holds the getter's buffer may write into it: it must not be the caller's array.
            VBufferEditor.CreateFromBuffer(ref buffer).Values[0] = -1;
            Assert.Equal(0.25f + i, rows[i].Values[0]);
        }
    }

    [Fact]
    public async Task Concurrent_callers_with_large_rows_get_their_own_sums_and_keep_their_arrays()
    {
        var ml = new MLContext(1);
        var file = new OnnxModelBuilder()
            .Input("x", OnnxType.Float, "N", Features)
            .Initializer("axes", new long[] { 1 }, 1)
            .Node("ReduceSum", ["x", "axes"], ["sum"], ("keepdims", 1L))
            .Output("sum", OnnxType.Float, "N", 1)
            .Save(Path.Combine(ServingModels.Folder, "large-row-sum.onnx"));
        var rows = Rows(64);
        var copies = rows.Select(r => (float[])r.Values.Clone()).ToArray();
        using var model = ml.Transforms.ApplyTensorRt(new TensorRtOptions { ModelFile = file, Backend = TensorRtBackend.OnnxRuntimeCpu, BatchSize = 16 })
            .Fit(ml.Data.LoadFromEnumerable(rows.Take(1)));
        await using var pool = new PredictionPool<LargeInput, SumOutput>(ml, model,
            new PredictionPoolOptions { MaxBatchSize = 16, MaxDelay = TimeSpan.FromMilliseconds(2) });
        await pool.WhenReady.WaitAsync(Cancel);

        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = rows.Select(row => Task.Run(async () => { await start.Task; return await pool.PredictAsync(row, Cancel); }, Cancel)).ToList();
        start.SetResult();
        var outputs = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(60), Cancel);

        for (var i = 0; i < rows.Length; i++)
        {
            var expected = copies[i].Sum();
            Assert.True(Math.Abs(outputs[i].Sum[0] - expected) <= 1e-3f * Math.Abs(expected), $"caller {i}: {outputs[i].Sum[0]}, expected {expected}");
            Assert.True(rows[i].Values.AsSpan().SequenceEqual(copies[i]), $"Caller {i}'s array was written.");
        }
    }

    private static LargeInput[] Rows(int count) =>
        Enumerable.Range(0, count).Select(r => new LargeInput
        {
            Values = Enumerable.Range(0, Features).Select(i => (i % 11 == 0 ? r : 0) + 0.25f).ToArray(),
            Weight = r,
        }).ToArray();
}
