namespace TrtMLNet;

/// <summary>
/// The names of the metrics TrtMLNet publishes through System.Diagnostics.Metrics (what OpenTelemetry's
/// .NET SDK and dotnet-counters read). Each batch records how long each stage took, so a slow pipeline
/// shows where its time goes: a long fill means the source or the image reading, a long wait with short
/// device stages means the device is not the bottleneck.
/// </summary>
public static class TensorRtMetrics
{
    /// <summary>The meter every TrtMLNet instrument belongs to.</summary>
    public const string MeterName = "TrtMLNet";

    /// <summary>Histogram, ms: reading a batch's rows into staging on the cursor's thread (images: reading their files, or decoding on the CPU).</summary>
    public const string Fill = "trtmlnet.batch.fill";

    /// <summary>Histogram, ms: the lane's thread on one batch, from taking it to the device finishing it.</summary>
    public const string LaneBusy = "trtmlnet.batch.lane";

    /// <summary>Histogram, ms: from a batch's submit to a lane taking it (long when every lane is busy).</summary>
    public const string Queued = "trtmlnet.batch.queued";

    /// <summary>Histogram, ms: a lane's host work on a batch's inputs before it uses the device (images: reading the JPEG headers).</summary>
    public const string Prepare = "trtmlnet.batch.prepare";

    /// <summary>
    /// Histogram, ms: a lane waiting for the device's turn, which lanes decoding images on the GPU take one at a
    /// time: from the upload with nvJPEG's hardware decoder (it waits for all work on the device), from the
    /// engine's execution with the hybrid decoder; 0 for other batches.
    /// </summary>
    public const string TurnWait = "trtmlnet.batch.turn";

    /// <summary>Histogram, ms on the device's clock: inputs to the device (images: nvJPEG decoding and resizing).</summary>
    public const string Upload = "trtmlnet.batch.upload";

    /// <summary>Histogram, ms on the device's clock: the engine's execution.</summary>
    public const string Compute = "trtmlnet.batch.compute";

    /// <summary>Histogram, ms on the device's clock: outputs back to the host.</summary>
    public const string Download = "trtmlnet.batch.download";

    /// <summary>Histogram, ms: how long the cursor waited for a batch it was about to serve.</summary>
    public const string Wait = "trtmlnet.batch.wait";

    /// <summary>Counter: rows scored.</summary>
    public const string Rows = "trtmlnet.rows";
}
