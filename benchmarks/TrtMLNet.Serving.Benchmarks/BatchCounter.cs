using System.Diagnostics.Metrics;

namespace TrtMLNet.Serving.Benchmarks;

/// <summary>Totals of the pool's batches at one moment: subtract two to get a measured window's.</summary>
public readonly record struct BatchTotals(long Rows, long Batches, double BatchSeconds, double QueueSeconds, long Requests)
{
    public static BatchTotals operator -(BatchTotals a, BatchTotals b) =>
        new(a.Rows - b.Rows, a.Batches - b.Batches, a.BatchSeconds - b.BatchSeconds, a.QueueSeconds - b.QueueSeconds, a.Requests - b.Requests);

    public double MeanRows => Batches > 0 ? (double)Rows / Batches : 1;

    /// <summary>Mean time a batch took to score, from the pool's own clock (the model's transform and reading its rows).</summary>
    public double MeanBatchMs => Batches > 0 ? BatchSeconds * 1000 / Batches : double.NaN;

    /// <summary>Mean time a request waited for its batch to start.</summary>
    public double MeanQueueMs => Requests > 0 ? QueueSeconds * 1000 / Requests : double.NaN;
}

/// <summary>
/// Counts the pool's batches, rows and times through its metrics, as an OpenTelemetry exporter would see them:
/// where a request's latency goes (queued, or in its batch).
/// </summary>
public sealed class BatchCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly object _gate = new();
    private BatchTotals _totals;

    public BatchCounter()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == PredictionPoolMetrics.MeterName && instrument.Name is PredictionPoolMetrics.BatchSize
                    or PredictionPoolMetrics.BatchDuration or PredictionPoolMetrics.QueueDuration)
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<int>((_, rows, _, _) =>
        {
            lock (_gate)
                _totals = _totals with { Rows = _totals.Rows + rows, Batches = _totals.Batches + 1 };
        });
        _listener.SetMeasurementEventCallback<double>((instrument, seconds, _, _) =>
        {
            lock (_gate)
            {
                _totals = instrument.Name == PredictionPoolMetrics.BatchDuration
                    ? _totals with { BatchSeconds = _totals.BatchSeconds + seconds }
                    : _totals with { QueueSeconds = _totals.QueueSeconds + seconds, Requests = _totals.Requests + 1 };
            }
        });
        _listener.Start();
    }

    public BatchTotals Snapshot()
    {
        lock (_gate)
            return _totals;
    }

    public void Dispose() => _listener.Dispose();
}
