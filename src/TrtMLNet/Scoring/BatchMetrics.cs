using System.Diagnostics.Metrics;
using TrtMLNet.Execution;

namespace TrtMLNet.Scoring;

/// <summary>The instruments behind <see cref="TensorRtMetrics"/>; timings are collected only while something listens.</summary>
internal static class BatchMetrics
{
    private static readonly Meter Meter = new(TensorRtMetrics.MeterName);
    private static readonly Histogram<double> Fill = Meter.CreateHistogram<double>(TensorRtMetrics.Fill, "ms", "Reading a batch's rows into staging.");
    private static readonly Histogram<double> Lane = Meter.CreateHistogram<double>(TensorRtMetrics.LaneBusy, "ms", "A lane's thread on one batch.");
    private static readonly Histogram<double> Upload = Meter.CreateHistogram<double>(TensorRtMetrics.Upload, "ms", "Inputs to the device, device clock.");
    private static readonly Histogram<double> Compute = Meter.CreateHistogram<double>(TensorRtMetrics.Compute, "ms", "The engine's execution, device clock.");
    private static readonly Histogram<double> Download = Meter.CreateHistogram<double>(TensorRtMetrics.Download, "ms", "Outputs back to the host, device clock.");
    private static readonly Histogram<double> Queued = Meter.CreateHistogram<double>(TensorRtMetrics.Queued, "ms", "A batch waiting for a lane.");
    private static readonly Histogram<double> Prepare = Meter.CreateHistogram<double>(TensorRtMetrics.Prepare, "ms", "A lane's host work on the inputs before the device.");
    private static readonly Histogram<double> TurnWait = Meter.CreateHistogram<double>(TensorRtMetrics.TurnWait, "ms", "A lane waiting for the device's turn.");
    private static readonly Histogram<double> Wait = Meter.CreateHistogram<double>(TensorRtMetrics.Wait, "ms", "The cursor waiting for a batch.");
    private static readonly Counter<long> Rows = Meter.CreateCounter<long>(TensorRtMetrics.Rows, "{row}", "Rows scored.");

    public static bool Enabled => Fill.Enabled || Lane.Enabled || Compute.Enabled || Wait.Enabled;

    public static void Record(BatchTimings timings, int rows, double waitMs, string model)
    {
        var tag = new KeyValuePair<string, object?>("model", model);
        Fill.Record(timings.HostFillMs, tag);
        Lane.Record(timings.LaneMs, tag);
        Queued.Record(timings.QueuedMs, tag);
        Prepare.Record(timings.PrepareMs, tag);
        TurnWait.Record(timings.TurnWaitMs, tag);
        Upload.Record(timings.HostToDeviceMs, tag);
        Compute.Record(timings.ComputeMs, tag);
        Download.Record(timings.DeviceToHostMs, tag);
        Wait.Record(waitMs, tag);
        Rows.Add(rows, tag);
    }
}
