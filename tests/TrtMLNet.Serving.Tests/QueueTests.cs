using Microsoft.ML;
using TrtMLNet.Serving.Tests.Support;
using WebApi;

namespace TrtMLNet.Serving.Tests;

public sealed class QueueTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static async Task<(PredictionPool<TabularInput, TabularOutput> Pool, GateModel Gate)> GatedPool(PredictionPoolOptions options, TestMeters? meters = null)
    {
        var ml = new MLContext(1);
        var gate = new GateModel(ml);
        var pool = new PredictionPool<TabularInput, TabularOutput>(ml, gate.Model, options, meterFactory: meters);
        await pool.WhenReady.WaitAsync(Cancel);
        return (pool, gate);
    }

    /// <summary>Waits until the pool's one scoring slot is busy with a batch held at the gate.</summary>
    private static async Task<Task<TabularOutput>> HoldTheScorer(PredictionPool<TabularInput, TabularOutput> pool, GateModel gate)
    {
        gate.Close();
        var held = pool.PredictAsync(ServingModels.Rows(1, seed: 99)[0], Cancel);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (pool.QueueLength > 0 && DateTime.UtcNow < deadline)
            await Task.Delay(10, Cancel);
        Assert.Equal(0, pool.QueueLength);
        return held;
    }

    [Fact]
    public async Task A_full_queue_refuses_at_once_with_a_typed_exception()
    {
        using var meters = new TestMeters();
        using var rejections = meters.Collect<long>(PredictionPoolMetrics.Rejections);
        var (pool, gate) = await GatedPool(new PredictionPoolOptions { MaxQueue = 4, MaxConcurrentBatches = 1, MaxBatchSize = 2, MaxDelay = TimeSpan.Zero }, meters);
        await using var _ = pool;
        var held = await HoldTheScorer(pool, gate);

        var queued = ServingModels.Rows(4).Select(r => pool.PredictAsync(r, Cancel)).ToList();
        Assert.Equal(4, pool.QueueLength);
        var refused = pool.PredictAsync(ServingModels.Rows(1)[0], Cancel);
        Assert.True(refused.IsFaulted, "The fifth request should fail at once, not wait.");
        var error = await Assert.ThrowsAsync<PredictionPoolFullException>(() => refused);
        Assert.Equal(4, error.MaxQueue);
        Assert.Equal(1, rejections.GetMeasurementSnapshot().Sum(m => m.Value));

        gate.Open();
        await Task.WhenAll(queued.Append(held)).WaitAsync(TimeSpan.FromSeconds(30), Cancel);
        Assert.Equal(0, pool.QueueLength);
    }

    [Fact]
    public async Task Cancelling_a_queued_request_removes_it_before_it_runs()
    {
        var (pool, gate) = await GatedPool(new PredictionPoolOptions { MaxConcurrentBatches = 1, MaxBatchSize = 8, MaxDelay = TimeSpan.Zero });
        await using var _ = pool;
        var held = await HoldTheScorer(pool, gate);
        var scoredBefore = gate.RowsScored;

        using var cancel = new CancellationTokenSource();
        var cancelled = pool.PredictAsync(ServingModels.Rows(1, seed: 3)[0], cancel.Token);
        var kept = pool.PredictAsync(ServingModels.Rows(1, seed: 4)[0], Cancel);
        Assert.Equal(2, pool.QueueLength);
        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.Equal(1, pool.QueueLength);
        gate.Open();
        await Task.WhenAll(held, kept).WaitAsync(TimeSpan.FromSeconds(30), Cancel);
        Assert.Equal(2, gate.RowsScored - scoredBefore);   // the held row and the kept one: the cancelled row never ran
    }

    [Fact]
    public async Task A_request_cancelled_before_it_is_made_is_not_queued()
    {
        var (pool, _) = await GatedPool(new PredictionPoolOptions());
        await using var __ = pool;
        var task = pool.PredictAsync(ServingModels.Rows(1)[0], new CancellationToken(canceled: true));
        Assert.True(task.IsCanceled);
        Assert.Equal(0, pool.QueueLength);
    }

    [Fact]
    public async Task Disposing_under_load_leaves_no_caller_waiting()
    {
        var ml = new MLContext(1);
        var (model, schema) = ServingModels.LoadTabular(ml);
        var pool = new PredictionPool<TabularInput, TabularOutput>(ml, model, new PredictionPoolOptions { MaxBatchSize = 16, MaxDelay = TimeSpan.FromMilliseconds(1) }, schema);
        await pool.WhenReady.WaitAsync(Cancel);
        var rows = ServingModels.Rows(64);
        var ok = 0;
        var refused = 0;
        var load = rows.Select(row => Task.Run(async () =>
        {
            while (true)
            {
                try
                {
                    await pool.PredictAsync(row, Cancel);
                    Interlocked.Increment(ref ok);
                }
                catch (ObjectDisposedException)
                {
                    Interlocked.Increment(ref refused);
                    return;
                }
            }
        }, Cancel)).ToList();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (Volatile.Read(ref ok) < 2000)
        {
            Assert.True(DateTime.UtcNow < deadline, $"Only {ok} requests were served in 60 s.");
            await Task.Delay(5, Cancel);
        }

        await pool.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30), Cancel);
        // Every caller ends: its last request either finished or was refused; none hangs.
        await Task.WhenAll(load).WaitAsync(TimeSpan.FromSeconds(30), Cancel);
        Assert.Equal(64, refused);
        Assert.Equal(PredictionPoolStatus.Disposed, pool.Status);
        Assert.Throws<ObjectDisposedException>(() => { _ = pool.PredictAsync(rows[0], Cancel); });
    }

    [Fact]
    public async Task Disposing_with_requests_queued_fails_them_and_finishes_the_running_batch()
    {
        var (pool, gate) = await GatedPool(new PredictionPoolOptions { MaxConcurrentBatches = 1, MaxBatchSize = 4, MaxDelay = TimeSpan.Zero });
        var held = await HoldTheScorer(pool, gate);
        var queued = ServingModels.Rows(10).Select(r => pool.PredictAsync(r, Cancel)).ToList();

        var disposing = pool.DisposeAsync().AsTask();
        foreach (var request in queued)
            await Assert.ThrowsAsync<ObjectDisposedException>(() => request.WaitAsync(TimeSpan.FromSeconds(10), Cancel));
        Assert.False(disposing.IsCompleted, "Dispose must wait for the batch still running.");
        gate.Open();
        await disposing.WaitAsync(TimeSpan.FromSeconds(30), Cancel);
        Assert.True(held.IsCompletedSuccessfully);
    }
}
