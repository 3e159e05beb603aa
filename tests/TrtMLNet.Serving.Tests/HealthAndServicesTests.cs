using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.ML;
using TrtMLNet.Serving.Tests.Support;
using WebApi;

namespace TrtMLNet.Serving.Tests;

public sealed class HealthAndServicesTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_health_check_is_unhealthy_while_warming_up_and_healthy_once_ready()
    {
        var ml = new MLContext(1);
        var gate = new GateModel(ml);
        gate.Close();   // holds the warm-up batch
        await using var pool = new PredictionPool<TabularInput, TabularOutput>(ml, gate.Model);

        var warming = PredictionPoolHealthCheck<TabularInput, TabularOutput>.Check(pool);
        Assert.Equal(HealthStatus.Unhealthy, warming.Status);
        Assert.Contains("warming up", warming.Description);
        var early = pool.PredictAsync(ServingModels.Rows(1)[0], Cancel);
        Assert.False(early.IsCompleted);

        gate.Open();
        await pool.WhenReady.WaitAsync(TimeSpan.FromSeconds(30), Cancel);
        var ready = PredictionPoolHealthCheck<TabularInput, TabularOutput>.Check(pool);
        Assert.Equal(HealthStatus.Healthy, ready.Status);
        Assert.Equal(1, ready.Data["modelVersion"]);
        await early.WaitAsync(TimeSpan.FromSeconds(30), Cancel);   // queued during warm-up, served after
    }

    [Fact]
    public async Task AddPredictionPool_serves_named_models_from_files_with_health_checks()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddPredictionPool<TabularInput, TabularOutput>(o => o.MaxDelay = TimeSpan.FromMilliseconds(1))
            .FromFile(modelName: "a", filePath: ServingModels.TabularFile(seed: 20))
            .FromFile(modelName: "b", filePath: ServingModels.TabularFile(seed: 21), configure: o => o.MaxBatchSize = 8)
            .FromFile(ServingModels.TabularFile(seed: 20, batchSize: 16));
        services.AddHealthChecks()
            .AddPredictionPoolCheck<TabularInput, TabularOutput>("a")
            .AddPredictionPoolCheck<TabularInput, TabularOutput>("b");
        await using var provider = services.BuildServiceProvider();
        foreach (var hosted in provider.GetServices<IHostedService>())
            await hosted.StartAsync(Cancel);

        var pools = provider.GetRequiredService<PredictionPools<TabularInput, TabularOutput>>();
        await Task.WhenAll(pools.ModelNames.Select(n => pools[n].WhenReady)).WaitAsync(TimeSpan.FromSeconds(60), Cancel);
        var health = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync(Cancel);
        Assert.Equal(HealthStatus.Healthy, health.Status);
        Assert.Equal(["prediction-pool:a", "prediction-pool:b"], health.Entries.Keys.Order());

        var ml = new MLContext(1);
        var rows = ServingModels.Rows(8);
        var (a, aSchema) = ServingModels.LoadTabular(ml, seed: 20);
        var (b, bSchema) = ServingModels.LoadTabular(ml, seed: 21);
        var expectedA = ServingModels.Expected(ml, a, aSchema, rows);
        var expectedB = ServingModels.Expected(ml, b, bSchema, rows);
        for (var i = 0; i < rows.Count; i++)
        {
            ServingModels.AssertClose(expectedA[i], (await pools.PredictAsync("a", rows[i], Cancel)).Score, "model a");
            ServingModels.AssertClose(expectedB[i], (await pools.PredictAsync("b", rows[i], Cancel)).Score, "model b");
            ServingModels.AssertClose(expectedA[i], (await pools.PredictAsync(rows[i], Cancel)).Score, "the unnamed model");
        }
        Assert.Equal(8, pools["b"].MaxBatchSize);
        Assert.Equal(16, provider.GetRequiredService<PredictionPool<TabularInput, TabularOutput>>().MaxBatchSize);
        Assert.Equal(TimeSpan.FromMilliseconds(1), pools["b"].Options.MaxDelay);
        Assert.Throws<ArgumentException>(() => pools["c"]);
    }

    [Fact]
    public async Task A_model_file_that_cannot_load_makes_its_health_check_unhealthy_with_the_reason()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddPredictionPool<TabularInput, TabularOutput>().FromFile("missing", Path.Combine(ServingModels.Folder, "no-such-model.zip"));
        services.AddHealthChecks().AddPredictionPoolCheck<TabularInput, TabularOutput>("missing");
        await using var provider = services.BuildServiceProvider();
        foreach (var hosted in provider.GetServices<IHostedService>())
            await hosted.StartAsync(Cancel);

        HealthReport report;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        do
        {
            report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync(Cancel);
        }
        while (report.Entries["prediction-pool:missing"].Description == "The model is loading." && DateTime.UtcNow < deadline);
        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        Assert.Contains("no-such-model.zip", report.Entries["prediction-pool:missing"].Description);
    }
}
