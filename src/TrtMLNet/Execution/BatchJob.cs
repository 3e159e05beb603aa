using TrtMLNet.Backends;
using TrtMLNet.Device;

namespace TrtMLNet.Execution;

/// <summary>One tensor of a batch: its shape for this batch and where it lies in the batch's layout.</summary>
internal readonly record struct BatchTensor(string Name, TensorElementType ElementType, long[] Shape, long Offset, long Bytes)
{
    public TensorBuffer At(IntPtr memory) => new(Name, ElementType, Shape, memory + (nint)Offset, Bytes);
}

/// <summary>
/// One batch handed to a lane: the model, host staging holding its inputs (filled) and room for its
/// outputs, and the signal the submitter waits on. A submitter reuses its jobs, one per staging slot.
/// </summary>
internal sealed class BatchJob : IDisposable
{
    private readonly ManualResetEventSlim _done = new(true);

    public required ModelRuntime Model { get; init; }

    /// <summary>The optimization profiles that accept this batch's shapes; the lane rents a context on one of them.</summary>
    public IReadOnlyList<int> Profiles { get; set; } = [0];

    /// <summary>Host memory laid out as the model's <see cref="BatchLayout"/>.</summary>
    public DeviceBuffer? Staging { get; set; }

    public BatchTensor[] Inputs { get; set; } = [];

    /// <summary>Per input: written to the device by this instead of a copy of its staging (images decoded on the GPU); null copies.</summary>
    public IDeviceUpload?[] Uploads { get; init; } = [];

    /// <summary>Only the outputs somebody reads: backends compute no more than these.</summary>
    public BatchTensor[] Outputs { get; set; } = [];

    /// <summary>
    /// For a set of jobs meant to reach every lane (the warm-up at fit): each lane that takes one signals this and
    /// waits until every lane has taken one (or <see cref="Lane.TogetherWait"/> passes), so no lane takes two. Null
    /// for ordinary jobs.
    /// </summary>
    public CountdownEvent? AllLanesTake { get; init; }

    /// <summary>Measure per-stage times on the device (for the benchmark breakdown; costs a little).</summary>
    public bool CollectTimings { get; set; }

    public BatchTimings Timings { get; } = new();

    public Exception? Error { get; private set; }

    /// <summary>When <see cref="Start"/> last ran (Stopwatch ticks): the lane's wait for it starts there.</summary>
    internal long SubmittedAt { get; private set; }

    internal void Start()
    {
        Error = null;
        SubmittedAt = System.Diagnostics.Stopwatch.GetTimestamp();
        _done.Reset();
    }

    internal void Complete(Exception? error)
    {
        Error = error;
        _done.Set();
    }

    /// <summary>Waits for the batch; its error, if any, is rethrown here, on the submitter's thread.</summary>
    public void Wait()
    {
        _done.Wait();
        // Rethrown with its own type (a CudaException stays one) and the worker's stack trace.
        if (Error is not null)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(Error).Throw();
    }

    /// <summary>Waits without throwing, for cleanup paths.</summary>
    public void WaitQuietly() => _done.Wait();

    public bool IsDone => _done.IsSet;

    public void Dispose() => _done.Dispose();
}

/// <summary>Milliseconds per stage of one batch, measured on the device's own clock where there is one.</summary>
internal sealed class BatchTimings
{
    /// <summary>Reading the batch's rows from the source into staging, on the cursor's thread.</summary>
    public double HostFillMs { get; set; }

    public double HostToDeviceMs { get; set; }

    public double ComputeMs { get; set; }

    public double DeviceToHostMs { get; set; }

    /// <summary>The lane's thread on the batch, host clock: its uploads' host work, the engine's call, the wait for the device.</summary>
    public double LaneMs { get; set; }

    /// <summary>From the submit to a lane taking the batch, host clock: long when every lane is busy.</summary>
    public double QueuedMs { get; set; }

    /// <summary>The uploads' host work before the device's turn (reading JPEG headers), host clock.</summary>
    public double PrepareMs { get; set; }

    /// <summary>The lane waiting for the device's turn (<see cref="DeviceTurn"/>), host clock; 0 when its uploads need none.</summary>
    public double TurnWaitMs { get; set; }
}
