using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace TrtMLNet.Benchmarks;

/// <summary>
/// Times full scoring passes over an IDataView: a cursor (or a cursor set) that reads one output column
/// of every row, as a consumer of a pipeline would. Contenders run alternately, pass after pass, so
/// drift on a noisy machine hits them alike; the median pass is reported.
/// </summary>
internal static class Throughput
{
    public sealed record Contender(string Name, IDataView Scored, string Output, int Cursors = 1);

    public sealed record Result(string Name, double RowsPerSecond, double Min, double Max, long Rows);

    /// <summary>
    /// Times the contenders, and any <paramref name="extra"/> passes (the raw engine's, say, which read no
    /// IDataView), alternately pass by pass; results come in that order, the extras last, named "extra N".
    /// </summary>
    public static IReadOnlyList<Result> Compare(IReadOnlyList<Contender> contenders, int passes, TimeSpan? minPass = null,
        IReadOnlyList<Func<(long Rows, double Seconds)>>? extra = null)
    {
        var all = contenders.Select(c => (Name: c.Name, Pass: (Func<(long Rows, double Seconds)>)(() => Pass(c))))
            .Concat((extra ?? []).Select((e, i) => (Name: $"extra {i}", Pass: e))).ToList();
        // A first pass of each warms caches, JIT and the engines (cuDNN picks its algorithms then).
        foreach (var (_, pass) in all)
            pass();
        var samples = all.Select(_ => new List<double>()).ToList();
        long[] rows = new long[all.Count];
        for (var p = 0; p < passes; p++)
        {
            for (var c = 0; c < all.Count; c++)
            {
                var (count, seconds) = all[c].Pass();
                // Short passes are repeated within a sample so timer noise does not dominate.
                var total = count;
                var elapsed = seconds;
                while (minPass is { } min && elapsed < min.TotalSeconds)
                {
                    var (more, moreSeconds) = all[c].Pass();
                    total += more;
                    elapsed += moreSeconds;
                }
                rows[c] = count;
                samples[c].Add(total / elapsed);
            }
        }
        return all.Select((c, i) => new Result(c.Name, Median(samples[i]), samples[i].Min(), samples[i].Max(), rows[i])).ToList();
    }

    /// <summary>One full pass over a contender's rows: the rows read and the seconds it took.</summary>
    public static (long Rows, double Seconds) Pass(Contender contender)
    {
        var column = contender.Scored.Schema[contender.Output];
        var watch = Stopwatch.StartNew();
        long rows;
        if (contender.Cursors <= 1)
        {
            using var cursor = contender.Scored.GetRowCursor([column]);
            rows = Drain(cursor, column);
        }
        else
        {
            var cursors = contender.Scored.GetRowCursorSet([column], contender.Cursors);
            var counts = new long[cursors.Length];
            Parallel.For(0, cursors.Length, new ParallelOptions { MaxDegreeOfParallelism = cursors.Length }, i =>
            {
                using var cursor = cursors[i];
                counts[i] = Drain(cursor, column);
            });
            rows = counts.Sum();
        }
        return (rows, watch.Elapsed.TotalSeconds);
    }

    private static long Drain(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        var value = default(VBuffer<float>);
        long rows = 0;
        while (cursor.MoveNext())
        {
            getter(ref value);
            rows++;
        }
        return rows;
    }

    public static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
