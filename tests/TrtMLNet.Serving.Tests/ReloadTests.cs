using Microsoft.ML;
using TrtMLNet.Serving.Tests.Support;
using WebApi;

namespace TrtMLNet.Serving.Tests;

public sealed class ReloadTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static string Served(string source)
    {
        var folder = Path.Combine(ServingModels.Folder, $"served-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "model.zip");
        File.Copy(source, path);
        return path;
    }

    private static async Task WaitFor(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}.");
            await Task.Delay(20, Cancel);
        }
    }

    [Fact]
    public async Task A_changed_model_file_is_served_under_load_without_dropping_a_request()
    {
        var ml = new MLContext(1);
        var rows = ServingModels.Rows(64);
        var (oldModel, oldSchema) = ServingModels.LoadTabular(ml, seed: 20);
        var (newModel, newSchema) = ServingModels.LoadTabular(ml, seed: 21);
        var expectedOld = ServingModels.Expected(ml, oldModel, oldSchema, rows);
        var expectedNew = ServingModels.Expected(ml, newModel, newSchema, rows);
        var path = Served(ServingModels.TabularFile(seed: 20));
        await using var pool = PredictionPool.FromFile<TabularInput, TabularOutput>(ml, path, watchForChanges: true,
            new PredictionPoolOptions { MaxBatchSize = 16, MaxDelay = TimeSpan.FromMilliseconds(1), ReloadDebounce = TimeSpan.FromMilliseconds(100) });
        await pool.WhenReady.WaitAsync(Cancel);

        var stop = new CancellationTokenSource();
        var seenNew = new bool[rows.Count];
        var errors = new List<Exception>();
        var requests = 0;
        var load = Enumerable.Range(0, rows.Count).Select(i => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var versionBefore = pool.ModelVersion;
                try
                {
                    var output = await pool.PredictAsync(rows[i], Cancel);
                    Interlocked.Increment(ref requests);
                    var isNew = Close(expectedNew[i], output.Score);
                    Assert.True(isNew || Close(expectedOld[i], output.Score), $"caller {i} got an output of neither model.");
                    // A request made after the swap completed must not be served by the old model.
                    Assert.True(isNew || versionBefore == 1, $"caller {i} got the old model's output after version {versionBefore} was serving.");
                    seenNew[i] |= isNew;
                }
                catch (Exception error)
                {
                    lock (errors)
                        errors.Add(error);
                    return;
                }
            }
        }, Cancel)).ToList();

        await WaitFor(() => Volatile.Read(ref requests) > 1000, "requests on the first model");
        File.Copy(ServingModels.TabularFile(seed: 21), path, overwrite: true);
        await WaitFor(() => pool.ModelVersion == 2, "the reload");
        var atSwap = Volatile.Read(ref requests);
        await WaitFor(() => Volatile.Read(ref requests) > atSwap + 1000, "requests on the new model");
        stop.Cancel();
        await Task.WhenAll(load).WaitAsync(TimeSpan.FromSeconds(30), Cancel);

        Assert.Empty(errors);
        Assert.All(seenNew, Assert.True);
        Assert.Null(pool.LastReloadError);
    }

    [Fact]
    public async Task A_half_written_model_file_leaves_the_old_model_serving_until_the_whole_file_arrives()
    {
        var ml = new MLContext(1);
        var path = Served(ServingModels.TabularFile(seed: 20));
        await using var pool = PredictionPool.FromFile<TabularInput, TabularOutput>(ml, path, watchForChanges: true,
            new PredictionPoolOptions { ReloadDebounce = TimeSpan.FromMilliseconds(100) });
        await pool.WhenReady.WaitAsync(Cancel);
        var row = ServingModels.Rows(1)[0];
        var before = await pool.PredictAsync(row, Cancel);

        var bytes = await File.ReadAllBytesAsync(ServingModels.TabularFile(seed: 21), Cancel);
        await File.WriteAllBytesAsync(path, bytes[..(bytes.Length / 2)], Cancel);
        await WaitFor(() => pool.LastReloadError is not null, "the failed reload");
        Assert.Equal(1, pool.ModelVersion);
        Assert.Contains(path, pool.LastReloadError);
        ServingModels.AssertClose(before.Score, (await pool.PredictAsync(row, Cancel)).Score, "after the failed reload");
        var health = PredictionPoolHealthCheck<TabularInput, TabularOutput>.Check(pool);
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Degraded, health.Status);

        await File.WriteAllBytesAsync(path, bytes, Cancel);
        await WaitFor(() => pool.ModelVersion == 2, "the reload of the whole file");
        Assert.Null(pool.LastReloadError);
        Assert.False(Close(before.Score, (await pool.PredictAsync(row, Cancel)).Score), "The new model should give other outputs.");
    }

    [Fact]
    public async Task ReplaceModelAsync_lets_running_batches_finish_on_the_old_model_and_then_disposes_it()
    {
        var ml = new MLContext(1);
        var gate = new GateModel(ml);
        var (model, schema) = ServingModels.LoadTabular(ml);
        await using var pool = new PredictionPool<TabularInput, TabularOutput>(ml, gate.Model,
            new PredictionPoolOptions { MaxConcurrentBatches = 1, MaxDelay = TimeSpan.Zero });
        await pool.WhenReady.WaitAsync(Cancel);
        gate.Close();
        var row = ServingModels.Rows(1)[0];
        var onOld = pool.PredictAsync(row, Cancel);
        await WaitFor(() => pool.QueueLength == 0, "the first batch to start");

        await pool.ReplaceModelAsync(model, schema, disposeWhenReplaced: true, cancellationToken: Cancel).WaitAsync(TimeSpan.FromSeconds(30), Cancel);
        Assert.Equal(2, pool.ModelVersion);
        Assert.False(onOld.IsCompleted);
        var onNew = pool.PredictAsync(row, Cancel);
        gate.Open();

        Assert.Equal(row.Features[..3], (await onOld.WaitAsync(TimeSpan.FromSeconds(30), Cancel)).Score);   // the gate model copies features
        var expected = ServingModels.Expected(ml, model, schema, [row])[0];
        ServingModels.AssertClose(expected, (await onNew.WaitAsync(TimeSpan.FromSeconds(30), Cancel)).Score, "the new model");
    }

    private static bool Close(float[] expected, float[] actual) =>
        expected.Length == actual.Length && expected.Zip(actual).All(p => Math.Abs(p.First - p.Second) <= 1e-5 + 1e-4 * Math.Abs(p.First));
}
