using System.Threading.Channels;

namespace TrtMLNet.Serving.Batching;

/// <summary>
/// The queue and the one loop that turns it into batches. A batch is flushed when it holds the model's
/// MaxBatchSize rows or when MaxDelay has passed since its oldest request arrived, whichever comes first.
/// The loop first waits for a free scoring slot (MaxConcurrentBatches), then forms the batch: while every
/// slot is busy requests pile up in the queue, so under load the next batch is full (or its deadline long
/// past) the moment a slot frees, and at low load a lone request waits at most MaxDelay.
/// </summary>
internal sealed class BatchDispatcher<TIn, TOut> where TIn : class where TOut : class, new()
{
    private readonly Channel<PendingPrediction<TIn, TOut>> _queue =
        Channel.CreateUnbounded<PendingPrediction<TIn, TOut>>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
    private readonly PredictionPoolOptions _options;
    private readonly PredictionPoolMetrics _metrics;
    private readonly Func<ModelGeneration<TIn, TOut>> _takeGeneration;
    private readonly SemaphoreSlim _slots;
    private readonly Action<PendingPrediction<TIn, TOut>> _onDropped;
    private readonly string _poolName;
    private int _queued;
    private Task<bool>? _pendingWait;

    public BatchDispatcher(string poolName, PredictionPoolOptions options, PredictionPoolMetrics metrics, Func<ModelGeneration<TIn, TOut>> takeGeneration)
    {
        _poolName = poolName;
        _options = options;
        _metrics = metrics;
        _takeGeneration = takeGeneration;
        _slots = new SemaphoreSlim(options.MaxConcurrentBatches, options.MaxConcurrentBatches);
        _onDropped = _ => Interlocked.Decrement(ref _queued);
    }

    /// <summary>Requests queued and not yet batched.</summary>
    public int QueueLength => Volatile.Read(ref _queued);

    private TimeProvider Time => _options.TimeProvider;

    public Task<TOut> Enqueue(TIn input, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
            return Task.FromCanceled<TOut>(cancellationToken);
        if (Interlocked.Increment(ref _queued) > _options.MaxQueue)
        {
            Interlocked.Decrement(ref _queued);
            _metrics.Rejected();
            return Task.FromException<TOut>(new PredictionPoolFullException(_poolName, _options.MaxQueue));
        }
        var request = new PendingPrediction<TIn, TOut>(input, Time.GetTimestamp());
        if (cancellationToken.CanBeCanceled)
            request.WatchCancellation(cancellationToken, _onDropped);
        if (!_queue.Writer.TryWrite(request) && request.TryDrop())
        {
            Interlocked.Decrement(ref _queued);
            request.Fail(Disposed());
        }
        return request.Task;
    }

    /// <summary>Forms batches until <see cref="Close"/>; each is scored on the thread pool.</summary>
    public async Task RunAsync()
    {
        var reader = _queue.Reader;
        var forming = new List<PendingPrediction<TIn, TOut>>();
        while (true)
        {
            await _slots.WaitAsync().ConfigureAwait(false);
            var first = await TakeFirstAsync(reader).ConfigureAwait(false);
            if (first is null)
            {
                _slots.Release();
                return;
            }
            var generation = _takeGeneration();
            forming.Add(first);
            await FillAsync(reader, forming, generation.MaxBatchSize, first.EnqueuedTimestamp).ConfigureAwait(false);
            var batch = forming.ToArray();
            forming.Clear();
            ThreadPool.UnsafeQueueUserWorkItem(static state => state.dispatcher.Score(state.generation, state.batch),
                (dispatcher: this, generation, batch), preferLocal: false);
        }
    }

    /// <summary>
    /// No new requests; the ones not yet batched fail with <paramref name="reason"/> (the pool's disposal
    /// when null), batches already formed still run.
    /// </summary>
    public void Close(Exception? reason = null)
    {
        _queue.Writer.TryComplete();
        while (_queue.Reader.TryRead(out var request))
        {
            if (request.TryDrop())
            {
                Interlocked.Decrement(ref _queued);
                request.Fail(reason ?? Disposed());
            }
        }
    }

    /// <summary>Waits until every scoring slot is free again: all formed batches have finished.</summary>
    public async Task WaitForBatchesAsync()
    {
        for (var i = 0; i < _options.MaxConcurrentBatches; i++)
            await _slots.WaitAsync().ConfigureAwait(false);
        _slots.Release(_options.MaxConcurrentBatches);
    }

    private async ValueTask<PendingPrediction<TIn, TOut>?> TakeFirstAsync(ChannelReader<PendingPrediction<TIn, TOut>> reader)
    {
        while (true)
        {
            while (reader.TryRead(out var request))
            {
                if (Take(request))
                    return request;
            }
            if (!await WaitForRequestAsync(reader).ConfigureAwait(false))
                return null;
        }
    }

    private async ValueTask FillAsync(ChannelReader<PendingPrediction<TIn, TOut>> reader, List<PendingPrediction<TIn, TOut>> forming, int maxRows, long oldest)
    {
        Task? deadline = null;
        using var stopTimer = new CancellationTokenSource();
        try
        {
            while (forming.Count < maxRows)
            {
                if (reader.TryRead(out var request))
                {
                    if (Take(request))
                        forming.Add(request);
                    continue;
                }
                var left = _options.MaxDelay - Time.GetElapsedTime(oldest);
                if (left <= TimeSpan.Zero)
                    return;
                deadline ??= Task.Delay(left, Time, stopTimer.Token);
                var more = WaitForRequestAsync(reader);
                if (!more.IsCompleted && await Task.WhenAny(more.AsTask(), deadline).ConfigureAwait(false) == deadline)
                    return;
                if (!await more.ConfigureAwait(false))
                    return;
            }
        }
        finally
        {
            stopTimer.Cancel();
        }
    }

    /// <summary>
    /// Waits for the queue to hold a request (false: closed and empty). A wait left pending when the
    /// deadline won is kept and reused, so there is never more than one outstanding.
    /// </summary>
    private ValueTask<bool> WaitForRequestAsync(ChannelReader<PendingPrediction<TIn, TOut>> reader)
    {
        if (_pendingWait is { IsCompleted: false } pending)
            return new ValueTask<bool>(pending);
        var wait = reader.WaitToReadAsync();
        if (wait.IsCompleted)
        {
            _pendingWait = null;
            return wait;
        }
        _pendingWait = wait.AsTask();
        return new ValueTask<bool>(_pendingWait);
    }

    private bool Take(PendingPrediction<TIn, TOut> request)
    {
        if (!request.TryTake())
            return false;
        Interlocked.Decrement(ref _queued);
        return true;
    }

    private void Score(ModelGeneration<TIn, TOut> generation, PendingPrediction<TIn, TOut>[] batch)
    {
        try
        {
            var start = Time.GetTimestamp();
            _metrics.BatchStarted(batch.Length);
            var inputs = new TIn[batch.Length];
            for (var i = 0; i < batch.Length; i++)
            {
                inputs[i] = batch[i].Input;
                _metrics.Queued(Time.GetElapsedTime(batch[i].EnqueuedTimestamp, start));
            }
            generation.Score(batch, inputs);
            var end = Time.GetTimestamp();
            _metrics.BatchScored(Time.GetElapsedTime(start, end));
            foreach (var request in batch)
            {
                var outcome = request.Task.Status == TaskStatus.RanToCompletion ? "ok" : "failed";
                _metrics.RequestDone(Time.GetElapsedTime(request.EnqueuedTimestamp, end), outcome);
            }
        }
        catch (Exception error)
        {
            // Score completes every request itself; this is the last guard so no caller is left waiting.
            foreach (var request in batch)
                request.Fail(new PredictionFailedException($"The batch of {batch.Length} rows failed: {error.Message}", error));
        }
        finally
        {
            generation.End();
            _slots.Release();
        }
    }

    private ObjectDisposedException Disposed() =>
        new(nameof(PredictionPool<TIn, TOut>), $"The prediction pool '{_poolName}' was disposed before this request was scored.");
}

