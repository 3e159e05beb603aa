using TrtMLNet.Backends;

namespace TrtMLNet.Execution;

/// <summary>
/// One batch handed to a lane: the model, host staging for its inputs (filled) and outputs (to be
/// filled), and the signal the cursor waits on. A cursor reuses its jobs, one per staging set.
/// </summary>
internal sealed class BatchJob : IDisposable
{
    private readonly ManualResetEventSlim _done = new(true);

    public required ModelRuntime Model { get; init; }

    public int Profile { get; set; }

    /// <summary>Inputs in host staging memory, with this batch's shapes.</summary>
    public TensorBuffer[] Inputs { get; set; } = [];

    /// <summary>Outputs to bring back into host staging memory, with this batch's shapes.</summary>
    public TensorBuffer[] Outputs { get; set; } = [];

    /// <summary>Measure per-stage times on the device (for the benchmark breakdown; costs a little).</summary>
    public bool CollectTimings { get; set; }

    public BatchTimings Timings { get; } = new();

    public Exception? Error { get; private set; }

    internal void Start()
    {
        Error = null;
        _done.Reset();
    }

    internal void Complete(Exception? error)
    {
        Error = error;
        _done.Set();
    }

    /// <summary>Waits for the batch; its error, if any, is rethrown here, on the cursor's thread.</summary>
    public void Wait()
    {
        _done.Wait();
        // Rethrown with its own type (a CudaException stays one) and the worker's stack trace.
        if (Error is not null)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(Error).Throw();
    }

    /// <summary>Waits without throwing, for cleanup paths.</summary>
    public void WaitQuietly() => _done.Wait();

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
}
