using System.Diagnostics.Metrics;
using System.Globalization;
using TrtMLNet;

namespace BatchScoring.Running;

/// <summary>
/// Listens to TrtMLNet's per-batch stage timings (<see cref="TensorRtMetrics"/>) for the summary: where a
/// batch's time went, so a slow run shows whether the input, the lanes or the device holds it back.
/// </summary>
public sealed class StageTimes : IDisposable
{
    private static readonly string[] Stages = [TensorRtMetrics.Fill, TensorRtMetrics.Wait, TensorRtMetrics.LaneBusy, TensorRtMetrics.Upload, TensorRtMetrics.Compute, TensorRtMetrics.Download];
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, (double Sum, long Count)> _totals = Stages.ToDictionary(s => s, _ => (0.0, 0L));

    public StageTimes()
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
                var (sum, count) = _totals[instrument.Name];
                _totals[instrument.Name] = (sum + value, count + 1);
            }
        });
        _listener.Start();
    }

    /// <summary>The mean of each stage per batch, e.g. "fill 3.1, wait 0.2, lane 17.9, upload 2.0, compute 15.1, download 0.3"; null before any batch.</summary>
    public string? Describe()
    {
        lock (_totals)
        {
            if (_totals[TensorRtMetrics.LaneBusy].Count == 0)
                return null;
            return string.Join(", ", Stages.Select(s => string.Create(CultureInfo.InvariantCulture,
                $"{s[(s.LastIndexOf('.') + 1)..]} {_totals[s].Sum / Math.Max(1, _totals[s].Count):0.0}")));
        }
    }

    public void Dispose() => _listener.Dispose();
}
