using System.Diagnostics.Metrics;

namespace TrtMLNet.Serving.Benchmarks;

/// <summary>Counts the pool's batches and rows through its metrics, as an OpenTelemetry exporter would see them.</summary>
public sealed class BatchCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _rows;
    private long _batches;

    public BatchCounter()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == PredictionPoolMetrics.MeterName && instrument.Name == PredictionPoolMetrics.BatchSize)
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<int>((_, rows, _, _) =>
        {
            Interlocked.Add(ref _rows, rows);
            Interlocked.Increment(ref _batches);
        });
        _listener.Start();
    }

    public (long Rows, long Batches) Snapshot() => (Interlocked.Read(ref _rows), Interlocked.Read(ref _batches));

    public void Dispose() => _listener.Dispose();
}
