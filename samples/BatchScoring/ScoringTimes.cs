using System.Globalization;

namespace BatchScoring;

/// <summary>
/// How long the rows of a run took to score and write (<see cref="Seconds"/>), the process's CPU time meanwhile,
/// when the first and last rows came back scored (<see cref="Timeline"/>), and the CPU time the JIT compiler took
/// meanwhile (a start cost of its own: the code first run by the cursor, the decoders and the writers).
/// </summary>
public readonly record struct ScoringTimes(double Seconds, double CpuSeconds, Output.WriteTimeline Timeline, double JitSeconds)
{
    public double? FirstRowSeconds => Timeline.FirstRow?.TotalSeconds;

    /// <summary>Rows per second between the first row and the last: the pace once started, ignoring the start and the end.</summary>
    public double? PaceRowsPerSecond(long rows) =>
        Timeline is { FirstRow: { } first, LastRow: { } last } && rows > 1 && last > first ? (rows - 1) / (last - first).TotalSeconds : null;

    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"cursor open {Timeline.CursorOpen?.TotalSeconds ?? 0:0.00}, first row {FirstRowSeconds ?? 0:0.00}, last row {Timeline.LastRow?.TotalSeconds ?? 0:0.00}, " +
        $"end {Seconds:0.00}; JIT {JitSeconds:0.00} s of CPU; {ThreadPool.ThreadCount} pool threads at the end");
}
