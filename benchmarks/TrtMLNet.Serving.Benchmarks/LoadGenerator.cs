using System.Diagnostics;

namespace TrtMLNet.Serving.Benchmarks;

/// <summary>What one contender did at one number of clients.</summary>
/// <remarks>
/// <see cref="Pool"/> is the pool's own accounting over the measured window (null for a baseline) and
/// <see cref="Stages"/> the engine's stage means (<see cref="BatchStageTimes"/>): where the time went.
/// </remarks>
public sealed record LoadResult(string Contender, int Clients, double Seconds, long Requests, long Errors, double P50Ms, double P99Ms, BatchTotals? Pool, string? Stages)
{
    public double MeanBatch => Pool?.MeanRows ?? 1;

    public double Throughput => Requests / Seconds;
}

/// <summary>
/// A closed loop: <c>clients</c> callers each send a request, wait for its answer and send the next, for
/// a fixed time after a warm-up. A request's latency runs from the moment its caller sends it to the
/// moment the answer is back, so time spent waiting for a thread or in a queue counts.
/// </summary>
public static class LoadGenerator
{
    public static async Task<LoadResult> RunAsync(string contender, int clients, TimeSpan warmup, TimeSpan duration,
        Func<int, Task> request, BatchCounter? batches = null)
    {
        var latencies = new List<long>[clients];
        var errors = 0L;
        var measuring = 0;
        var stop = 0;
        Exception? firstError = null;
        var loops = Enumerable.Range(0, clients).Select(client => Task.Run(async () =>
        {
            var mine = latencies[client] = new List<long>(1 << 14);
            var sequence = client;
            while (Volatile.Read(ref stop) == 0)
            {
                var start = Stopwatch.GetTimestamp();
                try
                {
                    await request(sequence);
                    if (Volatile.Read(ref measuring) == 1)
                        mine.Add(Stopwatch.GetTimestamp() - start);
                }
                catch (Exception error)
                {
                    if (Volatile.Read(ref measuring) == 1)
                        Interlocked.Increment(ref errors);
                    Interlocked.CompareExchange(ref firstError, error, null);
                }
                sequence += clients;
            }
        })).ToList();

        await Task.Delay(warmup);
        using var stages = new BatchStageTimes();
        var before = batches?.Snapshot();
        Volatile.Write(ref measuring, 1);
        var clock = Stopwatch.StartNew();
        await Task.Delay(duration);
        Volatile.Write(ref measuring, 0);
        var seconds = clock.Elapsed.TotalSeconds;
        var after = batches?.Snapshot();
        Volatile.Write(ref stop, 1);
        await Task.WhenAll(loops);

        if (firstError is not null)
            Console.Error.WriteLine($"  {contender} at {clients} clients: {errors} errors; the first: {firstError.GetType().Name}: {firstError.Message}");
        var all = latencies.SelectMany(l => l).Order().ToArray();
        double Percentile(double p) => all.Length == 0 ? double.NaN : all[Math.Min(all.Length - 1, (int)Math.Ceiling(p * all.Length) - 1)] * 1000.0 / Stopwatch.Frequency;
        return new LoadResult(contender, clients, seconds, all.Length, errors, Percentile(0.50), Percentile(0.99), after - before, stages.Describe());
    }
}
