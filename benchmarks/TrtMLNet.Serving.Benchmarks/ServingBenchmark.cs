using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.ML;

namespace TrtMLNet.Serving.Benchmarks;

public static class ServingBenchmark
{
    public static async Task<int> RunAsync(BenchmarkOptions options, TextWriter output)
    {
        var folder = Directory.CreateTempSubdirectory("trtmlnet-serving-bench-").FullName;
        var ml = new MLContext(1);
        try
        {
            return options.Model switch
            {
                "mlp" => await RunAsync(Scenarios.Mlp(ml, folder, options, options.Baselines), ml, options, output),
                "resnet18" => await RunAsync(Scenarios.ResNet18(ml, folder, options, options.Baselines), ml, options, output),
                "resnet50" => await RunAsync(Scenarios.ResNet50(ml, folder, options, options.Baselines), ml, options, output),
                _ => throw new ArgumentException($"Unknown model '{options.Model}': use mlp, resnet18 or resnet50."),
            };
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task<int> RunAsync<TIn, TOut>(Scenario<TIn, TOut> scenario, MLContext ml, BenchmarkOptions options, TextWriter output)
        where TIn : class where TOut : class, new()
    {
        var results = new List<LoadResult>();
        using var batches = new BatchCounter();
        await using (var pool = new PredictionPool<TIn, TOut>(ml, scenario.PoolModel, new PredictionPoolOptions
        {
            MaxBatchSize = options.MaxBatchSize,
            MaxDelay = options.MaxDelay,
            MaxConcurrentBatches = options.MaxConcurrentBatches,
            MaxQueue = 1 << 20,
        }, scenario.PoolSchema, name: options.Model))
        {
            await pool.WhenReady;
            foreach (var clients in options.Clients)
            {
                results.Add(await LoadGenerator.RunAsync("PredictionPool", clients, options.Warmup, options.Duration,
                    i => pool.PredictAsync(scenario.Rows[i % scenario.Rows.Count]), batches));
                Console.Error.WriteLine(Line(results[^1]));
            }
        }
        foreach (var (name, engines) in scenario.Baselines)
        {
            foreach (var clients in options.Clients)
            {
                results.Add(await LoadGenerator.RunAsync(name, clients, options.Warmup, options.Duration, async i =>
                {
                    // A server's request runs on a thread-pool thread: waiting for one is part of its latency.
                    await Task.Yield();
                    var engine = engines.Get();
                    try
                    {
                        engine.Predict(scenario.Rows[i % scenario.Rows.Count]);
                    }
                    finally
                    {
                        engines.Return(engine);
                    }
                }));
                Console.Error.WriteLine(Line(results[^1]));
            }
        }

        var table = Table(scenario, options, results);
        output.WriteLine(table);
        if (options.Markdown is { } path)
            await File.WriteAllTextAsync(path, table);
        return results.Any(r => r.Errors > 0) ? 1 : 0;
    }

    private static string Line(LoadResult r)
    {
        var inv = CultureInfo.InvariantCulture;
        var line = string.Create(inv, $"  {r.Contender,-40} {r.Clients,4} clients  {r.Throughput,12:N0} req/s  p50 {r.P50Ms,8:F3} ms  p99 {r.P99Ms,8:F3} ms  batch {r.MeanBatch,6:F1}  errors {r.Errors}");
        if (r.Pool is { } pool)
            line += string.Create(inv, $"  queued {pool.MeanQueueMs:F2} ms, batch took {pool.MeanBatchMs:F2} ms");
        return r.Stages is { } stages ? line + $"  engine: {stages}" : line;
    }

    private static string Table<TIn, TOut>(Scenario<TIn, TOut> scenario, BenchmarkOptions options, List<LoadResult> results)
        where TIn : class where TOut : class, new()
    {
        var text = new System.Text.StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        text.AppendLine(inv, $"Model: {options.Model} ({scenario.Backend}, {options.Precision}). Machine: {Environment.ProcessorCount} logical cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}.");
        text.AppendLine(inv, $"Pool: MaxBatchSize {options.MaxBatchSize}, MaxDelay {options.MaxDelay.TotalMilliseconds} ms, MaxConcurrentBatches {options.MaxConcurrentBatches}; engine BatchBuckets {(options.BatchBuckets is { Length: > 0 } buckets ? string.Join(",", buckets) : "none")}. Closed loop, {options.Warmup.TotalSeconds} s warm-up, {options.Duration.TotalSeconds} s measured per row.");
        text.AppendLine();
        text.AppendLine("| contender | clients | req/s | p50 ms | p99 ms | mean batch | errors | req/s vs first baseline | p99 vs first baseline |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        var firstBaseline = scenario.Baselines.Count > 0 ? scenario.Baselines[0].Name : null;
        foreach (var r in results)
        {
            var b = results.FirstOrDefault(x => x.Contender == firstBaseline && x.Clients == r.Clients);
            var speed = b is null ? "" : (r.Throughput / b.Throughput).ToString("F2", inv) + "x";
            var p99 = b is null ? "" : (r.P99Ms / b.P99Ms).ToString("F2", inv) + "x";
            text.AppendLine(inv, $"| {r.Contender} | {r.Clients} | {r.Throughput:N0} | {r.P50Ms:F3} | {r.P99Ms:F3} | {r.MeanBatch:F1} | {r.Errors} | {speed} | {p99} |");
        }
        return text.ToString();
    }
}
