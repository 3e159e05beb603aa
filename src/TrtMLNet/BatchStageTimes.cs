using System.Diagnostics.Metrics;
using System.Globalization;
namespace TrtMLNet;

/// <summary>
/// Listens to TrtMLNet's per-batch stage timings (<see cref="TensorRtMetrics"/>) and keeps their means: where
/// a batch's time went, so a slow run shows whether the input, the lanes or the device holds it back. It
/// hears every transformer in the process from its creation to its disposal (metrics are process-wide);
/// batches are timed only while a listener like this one exists.
/// </summary>
public sealed class BatchStageTimes : IDisposable
{
    private static readonly string[] Stages =
    [
        TensorRtMetrics.Fill, TensorRtMetrics.Wait, TensorRtMetrics.Queued, TensorRtMetrics.LaneBusy, TensorRtMetrics.Prepare, TensorRtMetrics.TurnWait,
        TensorRtMetrics.Upload, TensorRtMetrics.Compute, TensorRtMetrics.Download,
    ];
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, (double Sum, long Count, double Max, double First)> _totals = Stages.ToDictionary(s => s, _ => (0.0, 0L, 0.0, 0.0));

    public BatchStageTimes()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == TensorRtMetrics.MeterName && Stages.Contains(instrument.Name))
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<double>((instrument, value, _, _) =>
        {
            lock (_totals)
            {
                var (sum, count, max, first) = _totals[instrument.Name];
                _totals[instrument.Name] = (sum + value, count + 1, Math.Max(max, value), count == 0 ? value : first);
            }
        });
        _listener.Start();
    }

    /// <summary>
    /// The mean of each stage per batch, e.g. "fill 3.1, wait 0.2, queued 0.1, lane 17.9, upload 2.0, compute 15.1, download 0.3";
    /// a stage whose slowest batch took over five times its mean gets that too ("upload 22.6 (max 512.0)"), which
    /// is how a one-time cost (a first-batch allocation or search) shows. Null before any batch.
    /// </summary>
    public string? Describe() => Join(total =>
    {
        var mean = total.Sum / Math.Max(1, total.Count);
        var text = string.Create(CultureInfo.InvariantCulture, $"{mean:0.0}");
        return total.Max > 5 * mean && total.Max > 1 ? text + string.Create(CultureInfo.InvariantCulture, $" (max {total.Max:0.0})") : text;
    });

    /// <summary>
    /// Each stage's first measurement, e.g. "fill 46.7, wait 0.1, ...": what a run's start costs, stage by stage.
    /// With several lanes or cursors the stages' first measurements need not be of one batch, and the other
    /// lanes' first batches count as ordinary ones. Null before any batch.
    /// </summary>
    public string? DescribeFirst() => Join(total => string.Create(CultureInfo.InvariantCulture, $"{total.First:0.0}"));

    /// <summary>"name value, ..." over the stages that took time, each value from <paramref name="value"/>; null before any batch.</summary>
    private string? Join(Func<(double Sum, long Count, double Max, double First), string> value)
    {
        lock (_totals)
        {
            if (_totals[TensorRtMetrics.LaneBusy].Count == 0)
                return null;
            // A stage that never took any time (no turn without nvJPEG's hardware decoder) is left out.
            return string.Join(", ", Stages.Where(s => _totals[s].Max > 0).Select(s => $"{s[(s.LastIndexOf('.') + 1)..]} {value(_totals[s])}"));
        }
    }

    public void Dispose() => _listener.Dispose();
}
