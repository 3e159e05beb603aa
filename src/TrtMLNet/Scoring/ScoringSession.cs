using TrtMLNet.Execution;

namespace TrtMLNet.Scoring;

/// <summary>
/// What one cursor, or one row of a row mapper, scores with: a reference on the model's runtime,
/// which keeps the engine alive while the session is open, and its staging slots. Disposing it waits
/// for its batches still on the device, gives the staging back and releases the reference. A session
/// nobody disposed is released after the garbage collector finds it, with a warning: otherwise its
/// engine and device memory would stay taken for the life of the process.
/// </summary>
internal sealed class ScoringSession : IDisposable
{
    private readonly FittedModel _model;
    private int _released;

    public ScoringSession(FittedModel model, int slots)
    {
        if (!model.Runtime.TryAddReference())
        {
            // Nothing is held, so there is nothing for the finalizer to release.
            GC.SuppressFinalize(this);
            throw new ObjectDisposedException("TensorRtTransformer", "The TensorRtTransformer was disposed; fit the pipeline again to score.");
        }
        _model = model;
        Slots = Enumerable.Range(0, slots).Select(i => new BatchSlot(i, model)).ToArray();
    }

    public IReadOnlyList<BatchSlot> Slots { get; }

    public bool IsDisposed => Volatile.Read(ref _released) != 0;

    /// <summary>Sends the slot's batch to the device: only the outputs marked active are computed.</summary>
    public void Submit(BatchSlot slot, bool[] activeOutputs)
    {
        _model.Prepare(slot.Job, slot.Rows, activeOutputs);
        slot.Job.CollectTimings = _model.TimesBatches;
        _model.Runtime.Pool.Submit(slot.Job);
    }

    /// <summary>Waits for the slot's batch; its error, if any, is thrown here.</summary>
    public void Wait(BatchSlot slot)
    {
        var started = slot.Job.CollectTimings ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;
        slot.Job.Wait();
        if (!slot.Job.CollectTimings)
            return;
        _model.BatchTimed?.Invoke(slot.Job.Timings, slot.Rows);
        BatchMetrics.Record(slot.Job.Timings, slot.Rows, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds, _model.Runtime.Engine.Description);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
            return;
        Release(returnStaging: true);
        GC.SuppressFinalize(this);
    }

    ~ScoringSession()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
            return;
        // Not on the finalizer thread: releasing may wait for the device and join lane threads.
        ThreadPool.UnsafeQueueUserWorkItem(_ =>
        {
            try
            {
                _model.Warn($"A cursor over {_model.Runtime.Settings.ModelName} was never disposed; the garbage collector released its batches. " +
                    "Dispose cursors (a 'using' around them) so the device memory goes back as soon as they are done.");
                Release(returnStaging: false);
            }
            catch (Exception)
            {
                // Nobody is left to tell: the cursor's owner dropped it. Crashing the process would be worse.
            }
        }, null);
    }

    private void Release(bool returnStaging)
    {
        var staging = _model.Runtime.Pool.Staging;
        foreach (var slot in Slots)
        {
            // Batches still on the device write into staging: wait before the memory goes.
            slot.Job.WaitQuietly();
            if (slot.Job.Staging is { } buffer)
            {
                // After a finalizer, the buffer may already have been finalized itself: never reuse it.
                if (returnStaging) staging.Return(buffer);
                else staging.Forget(buffer);
            }
            slot.Job.Dispose();
        }
        _model.Runtime.Release();
    }
}
