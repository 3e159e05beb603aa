using System.Collections.Concurrent;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace TrtMLNet.Serving.Batching;

/// <summary>
/// One loaded model of a pool, with its scoring slots. A hot reload makes a new generation; the old one
/// is retired: it takes no new batch, finishes those it has, and is then disposed (when the pool owns it).
/// </summary>
internal sealed class ModelGeneration<TIn, TOut> where TIn : class where TOut : class, new()
{
    private readonly MLContext _ml;
    private readonly SchemaDefinition _inputDefinition;
    private readonly ConcurrentBag<ScoringSlot<TIn, TOut>> _slots = [];
    private readonly bool _ownsModel;
    private readonly object _gate = new();
    private int _inFlight;
    private bool _retired;
    private bool _disposed;

    public ModelGeneration(MLContext ml, ITransformer model, DataViewSchema? inputSchema, bool ownsModel, int version, int maxBatchSize, string source)
    {
        _ml = ml;
        Model = model;
        _ownsModel = ownsModel;
        Version = version;
        Source = source;
        _inputDefinition = InputRows<TIn>.Definition(inputSchema);
        var limit = PipelineStages.BatchLimit(model);
        MaxBatchSize = limit is { } l ? Math.Min(maxBatchSize, l) : maxBatchSize;
        BatchLimitReason = limit is { } k && k < maxBatchSize
            ? $"MaxBatchSize {maxBatchSize} lowered to {k}, the BatchSize of the model's TrtMLNet stage (its engine's largest batch)"
            : null;
    }

    public ITransformer Model { get; }

    /// <summary>1 for the model the pool started with, one more per reload.</summary>
    public int Version { get; }

    /// <summary>Where the model came from, for logs and the health check.</summary>
    public string Source { get; }

    /// <summary>Batches for this model hold at most this many rows (see <see cref="PipelineStages.BatchLimit"/>).</summary>
    public int MaxBatchSize { get; }

    public string? BatchLimitReason { get; }

    /// <summary>
    /// Runs a full batch, a batch of every smaller size the model pads to, and a single row through
    /// <paramref name="slots"/> slots, so engines are built, memory is allocated, CUDA graphs are captured
    /// and every slot's views are bound before any caller waits.
    /// </summary>
    public void WarmUp(object? warmupInput, int slots)
    {
        var row = warmupInput switch
        {
            null => InputRows<TIn>.DefaultRow(_inputDefinition),
            TIn typed => typed,
            _ => throw new ArgumentException($"PredictionPoolOptions.WarmupInput is a {warmupInput.GetType().Name}; this pool's rows are {typeof(TIn).Name}."),
        };
        var full = Enumerable.Repeat(row, MaxBatchSize).ToArray();
        var created = Enumerable.Range(0, slots).Select(_ => new ScoringSlot<TIn, TOut>(_ml, Model, _inputDefinition)).ToList();
        // Slots warm up one after another: the model's own error then surfaces as it is, not inside an AggregateException.
        var sizes = PipelineStages.WarmupBatchSizes(Model, MaxBatchSize);
        foreach (var slot in created)
        {
            foreach (var size in sizes)
                slot.Score(new ArraySegment<TIn>(full, 0, size));
        }
        foreach (var slot in created)
            _slots.Add(slot);
    }

    /// <summary>Counts a batch in; false once retired (the caller takes the newer generation).</summary>
    public bool TryBegin()
    {
        lock (_gate)
        {
            if (_retired)
                return false;
            _inFlight++;
            return true;
        }
    }

    public void End()
    {
        lock (_gate)
        {
            _inFlight--;
            if (!_retired || _inFlight > 0)
                return;
        }
        DisposeModel();
    }

    /// <summary>No new batch; the model is disposed when the last running batch ends.</summary>
    public void Retire()
    {
        lock (_gate)
        {
            _retired = true;
            if (_inFlight > 0)
                return;
        }
        DisposeModel();
    }

    /// <summary>
    /// Scores a batch and completes each request with its own row. When the batch fails, its halves are
    /// scored again, down to single rows, so only the rows that fail alone get the error; the others get
    /// their results. This costs up to 2N-1 runs for a batch of N when every row fails (a broken model):
    /// the price of not failing good rows with a bad one, paid only on errors.
    /// </summary>
    public void Score(PendingPrediction<TIn, TOut>[] batch, TIn[] inputs)
    {
        var slot = _slots.TryTake(out var free) ? free : new ScoringSlot<TIn, TOut>(_ml, Model, _inputDefinition);
        try
        {
            ScoreRange(slot, batch, inputs, 0, batch.Length, batch.Length);
        }
        finally
        {
            _slots.Add(slot);
        }
    }

    private void ScoreRange(ScoringSlot<TIn, TOut> slot, PendingPrediction<TIn, TOut>[] batch, TIn[] inputs, int start, int count, int batchRows)
    {
        TOut[] outputs;
        try
        {
            outputs = slot.Score(new ArraySegment<TIn>(inputs, start, count));
        }
        catch (Exception error) when (count > 1 && error is not (OutOfMemoryException or ObjectDisposedException))
        {
            var half = count / 2;
            ScoreRange(slot, batch, inputs, start, half, batchRows);
            ScoreRange(slot, batch, inputs, start + half, count - half, batchRows);
            return;
        }
        catch (Exception error)
        {
            var message = count == 1
                ? $"Scoring this request's row failed with model version {Version} ({Source}); the other rows of its batch of {batchRows} were scored without it: " +
                    $"{PredictionPool<TIn, TOut>.Describe(error)}"
                : $"Scoring a batch of {count} rows failed with model version {Version} ({Source}): {PredictionPool<TIn, TOut>.Describe(error)}";
            for (var i = start; i < start + count; i++)
                batch[i].Fail(new PredictionFailedException(message, error));
            return;
        }
        for (var i = 0; i < count; i++)
            batch[start + i].Complete(outputs[i]);
    }

    private void DisposeModel()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
        }
        if (_ownsModel && Model is IDisposable disposable)
            disposable.Dispose();
    }
}
