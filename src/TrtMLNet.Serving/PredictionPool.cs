using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML;
using TrtMLNet.Serving.Batching;

namespace TrtMLNet.Serving;

/// <summary>
/// Serves a fitted ML.NET model to concurrent callers by scoring their rows together: each
/// <see cref="PredictAsync"/> queues one row, and the pool scores queued rows in batches (up to
/// <see cref="PredictionPoolOptions.MaxBatchSize"/>, waiting at most <see cref="PredictionPoolOptions.MaxDelay"/>
/// for a batch to fill). With a TrtMLNet stage in the model, a batch is one engine run, which is what a
/// GPU needs to be busy; <c>PredictionEnginePool</c> scores one row per call.
/// </summary>
/// <typeparam name="TIn">The row class, as for <c>PredictionEngine</c>.</typeparam>
/// <typeparam name="TOut">The prediction class, as for <c>PredictionEngine</c>.</typeparam>
public sealed class PredictionPool<TIn, TOut> : IAsyncDisposable, IDisposable where TIn : class where TOut : class, new()
{
    private readonly MLContext _ml;
    private readonly PredictionPoolOptions _options;
    private readonly ILogger _logger;
    private readonly BatchDispatcher<TIn, TOut> _dispatcher;
    private readonly SemaphoreSlim _reloading = new(1, 1);
    private readonly Task _loop;
    private ModelGeneration<TIn, TOut> _current;
    private ModelFileWatcher? _watcher;
    private volatile PredictionPoolStatus _status = PredictionPoolStatus.WarmingUp;
    private int _disposed;

    /// <summary>
    /// A pool over <paramref name="model"/>, which stays the caller's (the pool does not dispose it). The
    /// warm-up batch starts at once, in the background: see <see cref="WhenReady"/>.
    /// </summary>
    /// <param name="mlContext">The context the model was made with.</param>
    /// <param name="model">Any fitted transformer: a whole pipeline, with a TrtMLNet stage inside or not.</param>
    /// <param name="options">Batching, queue and warm-up; null takes the defaults.</param>
    /// <param name="inputSchema">The model's input schema (from <c>Load</c>), for vector sizes the row class leaves open.</param>
    /// <param name="name">The pool's name in errors, logs, metrics and health checks.</param>
    /// <param name="logger">Where reloads and failures are logged.</param>
    /// <param name="meterFactory">Creates the pool's meter (DI's IMeterFactory); null makes one of its own.</param>
    public PredictionPool(MLContext mlContext, ITransformer model, PredictionPoolOptions? options = null, DataViewSchema? inputSchema = null,
        string name = "default", ILogger? logger = null, IMeterFactory? meterFactory = null)
        : this(mlContext, model, options, inputSchema, name, logger, meterFactory, ownsModel: false, source: "the model given")
    {
    }

    internal PredictionPool(MLContext mlContext, ITransformer model, PredictionPoolOptions? options, DataViewSchema? inputSchema,
        string name, ILogger? logger, IMeterFactory? meterFactory, bool ownsModel, string source)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(model);
        _ml = mlContext;
        _options = (options ?? new PredictionPoolOptions()).Validated();
        Name = name;
        _logger = logger ?? NullLogger.Instance;
        Metrics = new PredictionPoolMetrics(name, meterFactory, () => _dispatcher!.QueueLength);
        _current = new ModelGeneration<TIn, TOut>(_ml, model, inputSchema, ownsModel, version: 1, _options.MaxBatchSize, source);
        _dispatcher = new BatchDispatcher<TIn, TOut>(name, _options, Metrics, TakeGeneration);
        WhenReady = Task.Run(() => WarmUp(_current));
        _loop = ServeAsync();
    }

    public string Name { get; }

    public PredictionPoolStatus Status => _status;

    /// <summary>
    /// Completes when the warm-up batch has run (engines built, CUDA graphs captured); faults with the
    /// reason if it could not. Requests made before then wait in the queue.
    /// </summary>
    public Task WhenReady { get; }

    /// <summary>Requests waiting to be batched.</summary>
    public int QueueLength => _dispatcher.QueueLength;

    /// <summary>The largest batch for the current model: MaxBatchSize, lowered to its TrtMLNet stage's BatchSize.</summary>
    public int MaxBatchSize => Volatile.Read(ref _current).MaxBatchSize;

    /// <summary>1 for the first model, one more per successful reload.</summary>
    public int ModelVersion => Volatile.Read(ref _current).Version;

    /// <summary>Where the current model came from.</summary>
    public string ModelSource => Volatile.Read(ref _current).Source;

    /// <summary>The current model.</summary>
    public ITransformer Model => Volatile.Read(ref _current).Model;

    /// <summary>Why the last reload failed (the previous model kept serving); null after a good one.</summary>
    public string? LastReloadError { get; private set; }

    public PredictionPoolMetrics Metrics { get; }

    public PredictionPoolOptions Options => _options;

    /// <summary>
    /// Scores <paramref name="input"/> in the next batch and gives its prediction. Fails at once with
    /// <see cref="PredictionPoolFullException"/> when <see cref="PredictionPoolOptions.MaxQueue"/> requests
    /// are waiting; with <see cref="PredictionFailedException"/> when this row cannot be scored (the other
    /// rows of its batch are not affected). Cancelling before the row is batched removes it from the queue
    /// and cancels the task; once batched, the row is scored and the task completes with its batch (the
    /// input is in use until then, so keep it valid: an image, say, is disposed after the await).
    /// </summary>
    public Task<TOut> PredictAsync(TIn input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_status == PredictionPoolStatus.Failed)
            return Task.FromException<TOut>(WhenReady.Exception!.InnerException!);
        return _dispatcher.Enqueue(input, cancellationToken);
    }

    /// <summary>
    /// Warms <paramref name="model"/> up, then makes it the one new batches use. Batches already running
    /// finish on the old model, which is then disposed if the pool owned it; no request is dropped. If the
    /// warm-up fails, the old model keeps serving and the error is thrown (and kept in <see cref="LastReloadError"/>).
    /// </summary>
    /// <param name="model">The new model.</param>
    /// <param name="inputSchema">Its input schema, as for the constructor.</param>
    /// <param name="disposeWhenReplaced">Whether the pool disposes <paramref name="model"/> when a later one replaces it or the pool is disposed.</param>
    /// <param name="source">Where it came from, for logs and health checks.</param>
    /// <param name="cancellationToken">Stops waiting for another reload or for the warm-up to start.</param>
    public Task ReplaceModelAsync(ITransformer model, DataViewSchema? inputSchema = null, bool disposeWhenReplaced = false, string source = "a model given",
        CancellationToken cancellationToken = default) =>
        ReplaceModel(model, inputSchema, disposeWhenReplaced, source, cancellationToken);

    internal async Task ReplaceModel(ITransformer model, DataViewSchema? inputSchema, bool ownsModel, string source, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        try
        {
            await _reloading.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch when (ownsModel)
        {
            (model as IDisposable)?.Dispose();
            throw;
        }
        try
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                if (ownsModel)
                    (model as IDisposable)?.Dispose();
                throw new ObjectDisposedException(GetType().Name, $"The prediction pool '{Name}' was disposed before the new model from {source} could replace the old one.");
            }
            var next = new ModelGeneration<TIn, TOut>(_ml, model, inputSchema, ownsModel, _current.Version + 1, _options.MaxBatchSize, source);
            try
            {
                await Task.Run(() => next.WarmUp(_options.WarmupInput, _options.MaxConcurrentBatches), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception error)
            {
                next.Retire();
                LastReloadError = $"{source}: {error.Message}";
                Metrics.Reloaded(ok: false);
                _logger.LogWarning(error, "Prediction pool '{Pool}': the new model from {Source} failed to warm up; version {Version} keeps serving.",
                    Name, source, _current.Version);
                throw;
            }
            var old = Interlocked.Exchange(ref _current, next);
            old.Retire();
            LastReloadError = null;
            Metrics.Reloaded(ok: true);
            _logger.LogInformation("Prediction pool '{Pool}' now serves model version {Version} from {Source}; version {Old} finishes its running batches.",
                Name, next.Version, source, old.Version);
        }
        finally
        {
            _reloading.Release();
        }
    }

    /// <summary>Records a reload that failed before a model existed (a file that would not load).</summary>
    internal void ReloadFailed(string source, Exception error)
    {
        LastReloadError = $"{source}: {error.Message}";
        Metrics.Reloaded(ok: false);
        _logger.LogWarning(error, "Prediction pool '{Pool}': could not load {Source}; model version {Version} keeps serving.", Name, source, ModelVersion);
    }

    internal void Watch(ModelFileWatcher watcher) => _watcher = watcher;

    internal ILogger Logger => _logger;

    private void WarmUp(ModelGeneration<TIn, TOut> generation)
    {
        try
        {
            generation.WarmUp(_options.WarmupInput, _options.MaxConcurrentBatches);
            if (generation.BatchLimitReason is { } reason)
                _logger.LogInformation("Prediction pool '{Pool}': {Reason}.", Name, reason);
            if (_status == PredictionPoolStatus.WarmingUp)
                _status = PredictionPoolStatus.Ready;
        }
        catch (Exception error)
        {
            if (_status == PredictionPoolStatus.WarmingUp)
                _status = PredictionPoolStatus.Failed;
            _logger.LogError(error, "Prediction pool '{Pool}': the model from {Source} failed to warm up.", Name, generation.Source);
            throw WarmUpFailed(error);
        }
    }

    private InvalidOperationException WarmUpFailed(Exception error) =>
        new($"The prediction pool '{Name}' cannot serve: its model failed the warm-up batch ({Describe(error)}). " +
            "Fix the model or PredictionPoolOptions.WarmupInput and restart.", error);

    /// <summary>An error's message, with its root cause's where ML.NET wrapped it in a message of its own.</summary>
    internal static string Describe(Exception error)
    {
        var root = error.GetBaseException();
        return root == error || error.Message.Contains(root.Message, StringComparison.Ordinal) ? error.Message : $"{error.Message} {root.Message}";
    }

    private async Task ServeAsync()
    {
        try
        {
            await WhenReady.ConfigureAwait(false);
        }
        catch (Exception error)
        {
            _dispatcher.Close(error);
            return;
        }
        await _dispatcher.RunAsync().ConfigureAwait(false);
    }

    private ModelGeneration<TIn, TOut> TakeGeneration()
    {
        while (true)
        {
            var generation = Volatile.Read(ref _current);
            if (generation.TryBegin())
                return generation;
        }
    }

    /// <summary>
    /// Stops taking requests, fails those not yet batched (ObjectDisposedException), lets running
    /// batches finish, and disposes the models the pool owns. No caller is left waiting.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _status = PredictionPoolStatus.Disposed;
        _watcher?.Dispose();
        _dispatcher.Close();
        await _loop.ConfigureAwait(false);
        await _dispatcher.WaitForBatchesAsync().ConfigureAwait(false);
        await _reloading.WaitAsync().ConfigureAwait(false);
        Volatile.Read(ref _current).Retire();
        _reloading.Release();   // a reload waiting now finds the pool disposed
        Metrics.Dispose();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
