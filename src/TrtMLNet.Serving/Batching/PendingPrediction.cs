namespace TrtMLNet.Serving.Batching;

/// <summary>
/// One caller's request while it waits: its row, when it arrived, and the task the caller awaits (this
/// object is that task's source, to spare an allocation per request).
/// </summary>
/// <remarks>
/// A request is taken by exactly one party: the dispatcher (to score it), its cancellation (to drop it
/// unscored) or the pool's disposal (to fail it). <see cref="TryTake"/> and <see cref="TryDrop"/> decide
/// which, so a queued request is never both scored and dropped, and the queue count is lowered once.
/// </remarks>
internal sealed class PendingPrediction<TIn, TOut> : TaskCompletionSource<TOut>
{
    private const int Queued = 0, Taken = 1, Dropped = 2;
    private int _state;
    private CancellationTokenRegistration _cancellation;

    public PendingPrediction(TIn input, long enqueuedTimestamp)
        // Callers' continuations must not run on the scoring thread, which completes a whole batch.
        : base(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        Input = input;
        EnqueuedTimestamp = enqueuedTimestamp;
    }

    public TIn Input { get; }

    public long EnqueuedTimestamp { get; }

    /// <summary>The dispatcher takes the request into a batch; false if it was dropped meanwhile.</summary>
    public bool TryTake() => Interlocked.CompareExchange(ref _state, Taken, Queued) == Queued;

    /// <summary>Cancellation or disposal takes a request that has not been batched; false once batched.</summary>
    public bool TryDrop() => Interlocked.CompareExchange(ref _state, Dropped, Queued) == Queued;

    /// <summary>
    /// Watches the caller's token. Before batching, cancelling removes the request: it is never scored and
    /// the caller's task is cancelled at once. Once batched, the request runs to the end of its batch: the
    /// batch is reading the caller's input, which must stay valid (an image, say) until the task completes.
    /// </summary>
    public void WatchCancellation(CancellationToken token, Action<PendingPrediction<TIn, TOut>> onDroppedWhileQueued)
    {
        _cancellation = token.UnsafeRegister(static (state, token) =>
        {
            var (request, onDropped) = ((PendingPrediction<TIn, TOut>, Action<PendingPrediction<TIn, TOut>>))state!;
            if (!request.TryDrop())
                return;
            onDropped(request);
            request.TrySetCanceled(token);
        }, (this, onDroppedWhileQueued));
    }

    public void Complete(TOut output)
    {
        _cancellation.Dispose();
        TrySetResult(output);
    }

    public void Fail(Exception error)
    {
        _cancellation.Dispose();
        TrySetException(error);
    }
}
