using Microsoft.Extensions.Time.Testing;
using Microsoft.ML;
using TrtMLNet.Serving.Tests.Support;
using WebApi;

namespace TrtMLNet.Serving.Tests;

public sealed class BatchingTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Concurrent_callers_each_get_their_own_rows_output()
    {
        var ml = new MLContext(1);
        var (model, schema) = ServingModels.LoadTabular(ml);
        var rows = ServingModels.Rows(256);
        var expected = ServingModels.Expected(ml, model, schema, rows);
        using var meters = new TestMeters();
        using var batchSizes = meters.Collect<int>(PredictionPoolMetrics.BatchSize);
        using var queueTimes = meters.Collect<double>(PredictionPoolMetrics.QueueDuration);
        using var requestTimes = meters.Collect<double>(PredictionPoolMetrics.RequestDuration);
        await using var pool = new PredictionPool<TabularInput, TabularOutput>(ml, model,
            new PredictionPoolOptions { MaxBatchSize = 32, MaxDelay = TimeSpan.FromMilliseconds(5) }, schema, meterFactory: meters);
        await pool.WhenReady.WaitAsync(Cancel);
        batchSizes.Clear();

        // 256 callers start together, each on its own thread-pool work item, in a shuffled order.
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var order = Enumerable.Range(0, rows.Count).OrderBy(i => (i * 7919) % rows.Count).ToList();
        var calls = order.Select(i => Task.Run(async () =>
        {
            await start.Task;
            return (Index: i, Output: await pool.PredictAsync(rows[i], Cancel));
        }, Cancel)).ToList();
        start.SetResult();
        var results = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(60), Cancel);

        foreach (var (index, output) in results)
            ServingModels.AssertClose(expected[index], output.Score, $"caller {index}");
        var sizes = batchSizes.GetMeasurementSnapshot().Select(m => (int)m.Value).ToList();
        Assert.Equal(rows.Count, sizes.Sum());
        Assert.True(sizes.Max() > 1, $"No batch held more than one row: {string.Join(",", sizes)}.");
        Assert.True(sizes.Max() <= 32, $"A batch held more than MaxBatchSize 32: {sizes.Max()}.");
        Assert.Equal(rows.Count, queueTimes.GetMeasurementSnapshot().Count);
        // A batch records its requests' durations just after completing their tasks.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (requestTimes.GetMeasurementSnapshot().Count < rows.Count && DateTime.UtcNow < deadline)
            await Task.Delay(10, Cancel);
        var requests = requestTimes.GetMeasurementSnapshot();
        Assert.Equal(rows.Count, requests.Count(m => m.Tags[PredictionPoolMetrics.OutcomeTag] as string == "ok"));
        Assert.All(requests, m => Assert.Equal("default", m.Tags[PredictionPoolMetrics.PoolTag]));
    }

    [Fact]
    public async Task A_batch_flushes_when_MaxBatchSize_rows_are_queued_without_waiting_for_MaxDelay()
    {
        var ml = new MLContext(1);
        var (model, schema) = ServingModels.LoadTabular(ml);
        var time = new FakeTimeProvider();
        using var meters = new TestMeters();
        using var batchSizes = meters.Collect<int>(PredictionPoolMetrics.BatchSize);
        await using var pool = new PredictionPool<TabularInput, TabularOutput>(ml, model,
            new PredictionPoolOptions { MaxBatchSize = 8, MaxDelay = TimeSpan.FromHours(1), MaxConcurrentBatches = 1, TimeProvider = time }, schema, meterFactory: meters);
        await pool.WhenReady.WaitAsync(Cancel);
        batchSizes.Clear();
        var rows = ServingModels.Rows(13);

        // Eight rows fill a batch: it runs with the clock standing still.
        var full = rows.Take(8).Select(r => pool.PredictAsync(r, Cancel)).ToList();
        await Task.WhenAll(full).WaitAsync(TimeSpan.FromSeconds(30), Cancel);
        Assert.Equal([8], batchSizes.GetMeasurementSnapshot().Select(m => (int)m.Value));

        // Five more wait for the delay, however long the real time.
        var rest = rows.Skip(8).Select(r => pool.PredictAsync(r, Cancel)).ToList();
        await Task.Delay(300, Cancel);
        Assert.All(rest, t => Assert.False(t.IsCompleted));
        time.Advance(TimeSpan.FromHours(1));
        await Task.WhenAll(rest).WaitAsync(TimeSpan.FromSeconds(30), Cancel);
        Assert.Equal([8, 5], batchSizes.GetMeasurementSnapshot().Select(m => (int)m.Value));
    }

    [Fact]
    public async Task A_batch_flushes_MaxDelay_after_its_oldest_request_arrived()
    {
        var ml = new MLContext(1);
        var (model, schema) = ServingModels.LoadTabular(ml);
        var time = new FakeTimeProvider();
        using var meters = new TestMeters();
        using var batchSizes = meters.Collect<int>(PredictionPoolMetrics.BatchSize);
        await using var pool = new PredictionPool<TabularInput, TabularOutput>(ml, model,
            new PredictionPoolOptions { MaxBatchSize = 64, MaxDelay = TimeSpan.FromMilliseconds(10), TimeProvider = time }, schema, meterFactory: meters);
        await pool.WhenReady.WaitAsync(Cancel);
        batchSizes.Clear();
        var rows = ServingModels.Rows(3);

        var first = pool.PredictAsync(rows[0], Cancel);
        // Let the dispatcher arm its deadline at fake time 0 before the clock moves: armed after an
        // advance, its timer would start from there and run past the final advance (seen under load in CI).
        await Task.Delay(300, Cancel);
        time.Advance(TimeSpan.FromMilliseconds(6));
        var later = rows.Skip(1).Select(r => pool.PredictAsync(r, Cancel)).ToList();
        time.Advance(TimeSpan.FromMilliseconds(3));
        await Task.Delay(300, Cancel);
        Assert.False(first.IsCompleted, "The batch ran 9 ms after its oldest request; MaxDelay is 10 ms.");

        time.Advance(TimeSpan.FromMilliseconds(1));
        await Task.WhenAll(later.Append(first)).WaitAsync(TimeSpan.FromSeconds(30), Cancel);
        Assert.Equal([3], batchSizes.GetMeasurementSnapshot().Select(m => (int)m.Value));
    }

    [Fact]
    public async Task A_pool_loads_a_model_file_with_power_of_two_BatchBuckets_unless_the_file_or_the_caller_says_otherwise()
    {
        var ml = new MLContext(1);
        var path = ServingModels.TabularFile(seed: 20, batchSize: 16);
        await using (var pool = PredictionPool.FromFile<TabularInput, TabularOutput>(ml, path))
        {
            await pool.WhenReady.WaitAsync(Cancel);
            Assert.Equal([1, 2, 4, 8], Assert.Single(Batching.PipelineStages.TensorRtStages(pool.Model)).Options.BatchBuckets!);
        }

        var saved = new TensorRtOptions { BatchSize = 64, BatchBuckets = [4] };
        PredictionPool.ServingDefaults(null)(saved);
        Assert.Equal([4], saved.BatchBuckets!);
        var none = new TensorRtOptions { BatchSize = 64 };
        PredictionPool.ServingDefaults(o => o.BatchBuckets = [])(none);
        Assert.Empty(none.BatchBuckets!);
        var lowered = new TensorRtOptions { BatchSize = 64 };
        PredictionPool.ServingDefaults(o => o.BatchSize = 16)(lowered); // the buckets follow a BatchSize lowered on load
        Assert.Equal([1, 2, 4, 8], lowered.BatchBuckets!);
    }

    [Fact]
    public async Task MaxBatchSize_is_lowered_to_the_TrtMLNet_stages_BatchSize()
    {
        var ml = new MLContext(1);
        var (model, schema) = ServingModels.LoadTabular(ml, batchSize: 16);
        using var meters = new TestMeters();
        using var batchSizes = meters.Collect<int>(PredictionPoolMetrics.BatchSize);
        await using var pool = new PredictionPool<TabularInput, TabularOutput>(ml, model,
            new PredictionPoolOptions { MaxBatchSize = 64, MaxDelay = TimeSpan.FromMilliseconds(20) }, schema, meterFactory: meters);
        Assert.Equal(16, pool.MaxBatchSize);
        await pool.WhenReady.WaitAsync(Cancel);

        batchSizes.Clear();
        var rows = ServingModels.Rows(100);
        await Task.WhenAll(rows.Select(r => pool.PredictAsync(r, Cancel))).WaitAsync(TimeSpan.FromSeconds(30), Cancel);
        var sizes = batchSizes.GetMeasurementSnapshot().Select(m => (int)m.Value).ToList();
        Assert.Equal(100, sizes.Sum());
        Assert.True(sizes.Max() <= 16, $"A batch of {sizes.Max()} rows ran on an engine built for 16.");
    }

    [Fact]
    public async Task A_row_that_fails_fails_alone_and_the_rest_of_its_batch_is_scored()
    {
        var ml = new MLContext(1);
        var (model, schema) = ServingModels.LoadTabular(ml);
        var rows = ServingModels.Rows(17);
        var expected = ServingModels.Expected(ml, model, schema, rows);
        var time = new FakeTimeProvider();
        using var meters = new TestMeters();
        using var batchSizes = meters.Collect<int>(PredictionPoolMetrics.BatchSize);
        await using var pool = new PredictionPool<TabularInput, TabularOutput>(ml, model,
            new PredictionPoolOptions { MaxBatchSize = 18, MaxDelay = TimeSpan.FromHours(1), TimeProvider = time }, schema, meterFactory: meters);
        await pool.WhenReady.WaitAsync(Cancel);
        batchSizes.Clear();

        // 19 features where the model takes 20: ML.NET refuses that row when the batch reads it.
        var bad = new TabularInput { Features = new float[TabularModel.Features - 1] };
        var good = rows.Select(r => pool.PredictAsync(r, Cancel)).ToList();
        var failing = pool.PredictAsync(bad, Cancel);
        await Task.WhenAll(good).WaitAsync(TimeSpan.FromSeconds(30), Cancel);

        var error = await Assert.ThrowsAsync<PredictionFailedException>(() => failing);
        Assert.Contains("this request's row", error.Message);
        Assert.NotNull(error.InnerException);
        for (var i = 0; i < rows.Count; i++)
            ServingModels.AssertClose(expected[i], (await good[i]).Score, $"row {i}");
        Assert.Equal(18, batchSizes.GetMeasurementSnapshot().Single().Value);
    }

    [Fact]
    public async Task A_model_that_fails_its_warm_up_reports_why_and_fails_every_request()
    {
        var ml = new MLContext(1);
        var gate = new GateModel(ml);
        var options = new PredictionPoolOptions { WarmupInput = new TabularInput { Features = [float.NaN, .. new float[19]] } };
        await using var pool = new PredictionPool<TabularInput, TabularOutput>(ml, gate.Model, options);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => pool.WhenReady);
        Assert.Contains("warm-up", error.Message);
        Assert.Equal(PredictionPoolStatus.Failed, pool.Status);
        var request = await Assert.ThrowsAsync<InvalidOperationException>(() => pool.PredictAsync(ServingModels.Rows(1)[0], Cancel));
        Assert.Contains("NaN", request.Message);
    }
}
