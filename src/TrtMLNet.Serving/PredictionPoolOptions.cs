namespace TrtMLNet.Serving;

/// <summary>How a <see cref="PredictionPool{TIn, TOut}"/> forms batches, bounds its queue and warms up.</summary>
public sealed class PredictionPoolOptions
{
    /// <summary>
    /// Most rows in one batch. A batch is flushed as soon as it holds this many. It never exceeds the
    /// <c>BatchSize</c> of a TrtMLNet stage in the model (the largest batch its engine was built for):
    /// a larger value is lowered to it when the pool starts.
    /// </summary>
    public int MaxBatchSize { get; set; } = 64;

    /// <summary>
    /// Longest a request waits for others to join its batch, counted from the oldest request's arrival.
    /// Zero (the default, as Triton's dynamic batcher) waits for nobody: a free scoring slot takes whatever
    /// is queued, and batches still form under load because requests queue while every slot is busy.
    /// Raise it when a batch costs nearly the same whatever its size (a GPU at small batches) and clients
    /// are many: batches then fill to MaxBatchSize, at the price of up to this much latency per request.
    /// </summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// Most requests waiting to be batched. Beyond it <c>PredictAsync</c> fails at once with
    /// <see cref="PredictionPoolFullException"/> (HTTP 429 in the web sample) instead of queueing without bound.
    /// </summary>
    public int MaxQueue { get; set; } = 4096;

    /// <summary>
    /// Batches scored at once: one being read into the model on the host while others compute on the
    /// TrtMLNet stage's lanes (TensorRtOptions.Lanes, 2). 3 measured best on an H200 (ResNet-50, 64 and 256
    /// clients: 13-61% more than 2, two runs of one day; 4 no better), and the same as 2 within the noise on a 2-core CPU (docs/serving.md).
    /// </summary>
    public int MaxConcurrentBatches { get; set; } = 3;

    /// <summary>
    /// A row (of the pool's input type) to warm up with before the pool reports ready: a batch of
    /// <see cref="MaxBatchSize"/> copies, then the row alone. Null: a row of zeros and empty strings built
    /// from the input type, which suits numeric models; give one for inputs that must be valid, such as images.
    /// </summary>
    public object? WarmupInput { get; set; }

    /// <summary>The clock of <see cref="MaxDelay"/> and of the metrics; tests pass a fake one.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// With a watched model file, how long the file must stay unchanged before it is loaded: a copy in
    /// progress fires many change events, and loading waits for the last.
    /// </summary>
    public TimeSpan ReloadDebounce { get; set; } = TimeSpan.FromMilliseconds(500);

    internal PredictionPoolOptions Validated()
    {
        if (MaxBatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxBatchSize), MaxBatchSize, "MaxBatchSize must be at least 1.");
        if (MaxDelay < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(MaxDelay), MaxDelay, "MaxDelay cannot be negative.");
        if (MaxQueue < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxQueue), MaxQueue, "MaxQueue must be at least 1.");
        if (MaxConcurrentBatches < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxConcurrentBatches), MaxConcurrentBatches, "MaxConcurrentBatches must be at least 1.");
        ArgumentNullException.ThrowIfNull(TimeProvider);
        return (PredictionPoolOptions)MemberwiseClone();
    }
}
