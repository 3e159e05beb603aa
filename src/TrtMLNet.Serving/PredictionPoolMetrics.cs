using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace TrtMLNet.Serving;

/// <summary>
/// The pool's instruments, on the meter <see cref="MeterName"/> (add it to OpenTelemetry with
/// <c>.AddMeter("TrtMLNet.Serving")</c>). Every measurement carries the tag <see cref="PoolTag"/>.
/// </summary>
public sealed class PredictionPoolMetrics : IDisposable
{
    public const string MeterName = "TrtMLNet.Serving";
    public const string PoolTag = "trtmlnet.pool";
    public const string OutcomeTag = "trtmlnet.outcome";

    /// <summary>Rows per batch scored (histogram, {row}).</summary>
    public const string BatchSize = "trtmlnet.serving.batch.size";

    /// <summary>Time from a request's arrival to the start of its batch (histogram, s).</summary>
    public const string QueueDuration = "trtmlnet.serving.queue.duration";

    /// <summary>Time from a request's arrival to its result (histogram, s), tagged with its outcome.</summary>
    public const string RequestDuration = "trtmlnet.serving.request.duration";

    /// <summary>Time a batch took to score (histogram, s).</summary>
    public const string BatchDuration = "trtmlnet.serving.batch.duration";

    /// <summary>Requests refused because the queue was full (counter, {request}).</summary>
    public const string Rejections = "trtmlnet.serving.rejections";

    /// <summary>Requests waiting to be batched (observable up-down counter, {request}).</summary>
    public const string QueueLength = "trtmlnet.serving.queue.length";

    /// <summary>Model reloads, tagged with their outcome: ok or failed (counter, {reload}).</summary>
    public const string Reloads = "trtmlnet.serving.model.reloads";

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly KeyValuePair<string, object?> _pool;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _queueDuration;
    private readonly Histogram<double> _requestDuration;
    private readonly Histogram<double> _batchDuration;
    private readonly Counter<long> _rejections;
    private readonly Counter<long> _reloads;

    internal PredictionPoolMetrics(string poolName, IMeterFactory? meterFactory, Func<int> queueLength)
    {
        _meter = meterFactory?.Create(new MeterOptions(MeterName)) ?? new Meter(MeterName);
        _ownsMeter = meterFactory is null;
        _pool = new(PoolTag, poolName);
        _batchSize = _meter.CreateHistogram<int>(BatchSize, "{row}", "Rows per batch scored.");
        _queueDuration = _meter.CreateHistogram<double>(QueueDuration, "s", "Time from a request's arrival to the start of its batch.");
        _requestDuration = _meter.CreateHistogram<double>(RequestDuration, "s", "Time from a request's arrival to its result.");
        _batchDuration = _meter.CreateHistogram<double>(BatchDuration, "s", "Time a batch took to score.");
        _rejections = _meter.CreateCounter<long>(Rejections, "{request}", "Requests refused because the queue was full.");
        _reloads = _meter.CreateCounter<long>(Reloads, "{reload}", "Model reloads.");
        _meter.CreateObservableUpDownCounter(QueueLength, () => new Measurement<int>(queueLength(), _pool), "{request}", "Requests waiting to be batched.");
    }

    internal void BatchStarted(int rows) => _batchSize.Record(rows, _pool);

    internal void Queued(TimeSpan waited) => _queueDuration.Record(waited.TotalSeconds, _pool);

    internal void BatchScored(TimeSpan took) => _batchDuration.Record(took.TotalSeconds, _pool);

    internal void RequestDone(TimeSpan took, string outcome) =>
        _requestDuration.Record(took.TotalSeconds, _pool, new(OutcomeTag, outcome));

    internal void Rejected() => _rejections.Add(1, _pool);

    internal void Reloaded(bool ok) => _reloads.Add(1, _pool, new(OutcomeTag, ok ? "ok" : "failed"));

    public void Dispose()
    {
        if (_ownsMeter)
            _meter.Dispose();
    }
}
