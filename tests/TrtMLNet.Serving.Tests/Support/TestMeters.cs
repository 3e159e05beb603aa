using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace TrtMLNet.Serving.Tests.Support;

/// <summary>A meter factory per test, so a test's collectors see only its own pool's measurements.</summary>
public sealed class TestMeters : IMeterFactory
{
    private readonly List<Meter> _meters = [];

    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(new MeterOptions(options.Name) { Version = options.Version, Scope = this });
        lock (_meters)
            _meters.Add(meter);
        return meter;
    }

    public MetricCollector<T> Collect<T>(string instrument) where T : struct => new(this, PredictionPoolMetrics.MeterName, instrument);

    public void Dispose()
    {
        lock (_meters)
            foreach (var meter in _meters)
                meter.Dispose();
    }
}
