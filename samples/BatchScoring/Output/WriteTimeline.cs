using System.Diagnostics;

namespace BatchScoring.Output;

/// <summary>
/// Where a run's time goes before its first row and after its last: a slow start shows as a late
/// <see cref="FirstRow"/>, a slow end as a gap after <see cref="LastRow"/>. Times run from <see cref="Start"/>.
/// </summary>
public sealed class WriteTimeline
{
    private long _started = Stopwatch.GetTimestamp();

    public TimeSpan? CursorOpen { get; set; }

    public TimeSpan? FirstRow { get; set; }

    public TimeSpan? LastRow { get; set; }

    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_started);

    public void Start() => _started = Stopwatch.GetTimestamp();
}
