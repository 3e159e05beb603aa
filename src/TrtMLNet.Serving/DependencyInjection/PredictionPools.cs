using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.ML;

namespace TrtMLNet.Serving;

/// <summary>
/// The pools of one row and prediction type registered with
/// <see cref="PredictionPoolServiceCollectionExtensions.AddPredictionPool{TIn, TOut}"/>, by model name
/// (as <c>PredictionEnginePool</c> holds its named models). Inject it and call
/// <see cref="PredictAsync(string, TIn, CancellationToken)"/>. Each pool is created on first use, or at
/// start-up by the hosted service the registration adds, and disposed with the service provider.
/// </summary>
public sealed class PredictionPools<TIn, TOut> : IAsyncDisposable, IDisposable where TIn : class where TOut : class, new()
{
    /// <summary>The name of the model registered without one.</summary>
    public const string DefaultModelName = "";

    private readonly ConcurrentDictionary<string, Lazy<PredictionPool<TIn, TOut>>> _pools = new();
    private readonly ConcurrentDictionary<string, Task> _starting = new();
    private readonly PredictionPoolRegistrations<TIn, TOut> _registrations;

    public PredictionPools(IServiceProvider services, PredictionPoolRegistrations<TIn, TOut> registrations)
    {
        _registrations = registrations;
        var optionsMonitor = services.GetRequiredService<IOptionsMonitor<PredictionPoolOptions>>();
        var ml = services.GetService<MLContext>() ?? new MLContext();
        var loggers = services.GetService<ILoggerFactory>();
        var meters = services.GetService<IMeterFactory>();
        foreach (var registration in registrations.All)
        {
            _pools[registration.Name] = new Lazy<PredictionPool<TIn, TOut>>(() =>
            {
                var options = optionsMonitor.Get(registration.OptionsName);
                var logger = loggers?.CreateLogger($"TrtMLNet.Serving.PredictionPool.{registration.DisplayName}");
                return registration.Create(services, ml, options, logger, meters);
            });
        }
    }

    /// <summary>The registered model names ("" for the one registered without a name).</summary>
    public IEnumerable<string> ModelNames => _registrations.All.Select(r => r.Name);

    /// <summary>The pool of the model registered without a name.</summary>
    public PredictionPool<TIn, TOut> Default => this[DefaultModelName];

    /// <summary>The pool of model <paramref name="modelName"/>.</summary>
    public PredictionPool<TIn, TOut> this[string modelName] =>
        _pools.TryGetValue(modelName, out var pool)
            ? pool.Value
            : throw new ArgumentException(
                $"No prediction pool of {typeof(TIn).Name} -> {typeof(TOut).Name} is registered as '{modelName}'. Registered: " +
                    $"{string.Join(", ", ModelNames.Select(n => $"'{n}'"))}.", nameof(modelName));

    /// <summary>Scores <paramref name="input"/> with the model registered without a name.</summary>
    public Task<TOut> PredictAsync(TIn input, CancellationToken cancellationToken = default) => Default.PredictAsync(input, cancellationToken);

    /// <summary>Scores <paramref name="input"/> with model <paramref name="modelName"/>.</summary>
    public Task<TOut> PredictAsync(string modelName, TIn input, CancellationToken cancellationToken = default) =>
        this[modelName].PredictAsync(input, cancellationToken);

    /// <summary>
    /// Creates every pool in the background (loading a model file can take seconds: engines are built),
    /// which starts their warm-up batches. The health check reports each one as loading until it exists.
    /// </summary>
    public void StartAll()
    {
        foreach (var (name, pool) in _pools)
            _starting[name] = Task.Run(() => pool.Value);
    }

    /// <summary>The pool if it exists yet; else null, with <paramref name="loadError"/> set if it could not be made.</summary>
    internal PredictionPool<TIn, TOut>? Peek(string modelName, out Exception? loadError)
    {
        loadError = null;
        if (!_pools.TryGetValue(modelName, out var pool))
            throw new ArgumentException($"No prediction pool of {typeof(TIn).Name} -> {typeof(TOut).Name} is registered as '{modelName}'.", nameof(modelName));
        if (pool.IsValueCreated)
            return pool.Value;
        if (_starting.TryGetValue(modelName, out var starting) && starting.IsFaulted)
            loadError = starting.Exception!.InnerException;
        return null;
    }

    /// <summary>For a service provider disposed synchronously; hosts dispose with <see cref="DisposeAsync"/>.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        foreach (var starting in _starting.Values)
            await starting.ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
        foreach (var pool in _pools.Values.Where(p => p.IsValueCreated))
            await pool.Value.DisposeAsync().ConfigureAwait(false);
    }
}
