using Microsoft.Extensions.DependencyInjection;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace TrtMLNet.Serving;

/// <summary>Names the models of <c>AddPredictionPool</c>, in the style of <c>AddPredictionEnginePool().FromFile(...)</c>.</summary>
public sealed class PredictionPoolBuilder<TIn, TOut> where TIn : class where TOut : class, new()
{
    private readonly PredictionPoolRegistrations<TIn, TOut> _registrations;

    internal PredictionPoolBuilder(IServiceCollection services, PredictionPoolRegistrations<TIn, TOut> registrations, Action<PredictionPoolOptions>? defaults)
    {
        Services = services;
        _registrations = registrations;
        Defaults = defaults;
    }

    public IServiceCollection Services { get; }

    internal Action<PredictionPoolOptions>? Defaults { get; }

    /// <summary>The model registered without a name, from an ML.NET model file.</summary>
    public PredictionPoolBuilder<TIn, TOut> FromFile(string filePath, bool watchForChanges = false) =>
        FromFile(PredictionPools<TIn, TOut>.DefaultModelName, filePath, watchForChanges);

    /// <summary>
    /// Model <paramref name="modelName"/>, from an ML.NET model file loaded with <c>LoadWithTensorRt</c>;
    /// with <paramref name="watchForChanges"/>, reloaded when the file changes (see <see cref="PredictionPool.FromFile{TIn, TOut}"/>).
    /// </summary>
    /// <param name="modelName">The name to ask <see cref="PredictionPools{TIn, TOut}"/> for.</param>
    /// <param name="filePath">The model file; a relative path is taken from the current directory.</param>
    /// <param name="watchForChanges">Reload the model when the file changes.</param>
    /// <param name="configure">This model's options, applied after the defaults given to AddPredictionPool.</param>
    /// <param name="configureTensorRt">Changes the saved TrtMLNet options on load (backend, device, ...).</param>
    public PredictionPoolBuilder<TIn, TOut> FromFile(string modelName, string filePath, bool watchForChanges = false,
        Action<PredictionPoolOptions>? configure = null, Action<TrtMLNet.TensorRtOptions>? configureTensorRt = null)
    {
        var path = Path.GetFullPath(filePath);
        return Add(modelName, configure, (_, ml, options, logger, meters) =>
            PredictionPool.FromFile<TIn, TOut>(ml, path, watchForChanges, options, configureTensorRt, NameOf(modelName), logger, meters));
    }

    /// <summary>Model <paramref name="modelName"/>, fitted or loaded by <paramref name="createModel"/> (the pool disposes it).</summary>
    public PredictionPoolBuilder<TIn, TOut> FromModel(string modelName, Func<IServiceProvider, MLContext, (ITransformer Model, DataViewSchema? InputSchema)> createModel,
        Action<PredictionPoolOptions>? configure = null) =>
        Add(modelName, configure, (services, ml, options, logger, meters) =>
        {
            var (model, schema) = createModel(services, ml);
            return new PredictionPool<TIn, TOut>(ml, model, options, schema, NameOf(modelName), logger, meters, ownsModel: true, source: $"model '{NameOf(modelName)}'");
        });

    private PredictionPoolBuilder<TIn, TOut> Add(string modelName, Action<PredictionPoolOptions>? configure,
        Func<IServiceProvider, MLContext, PredictionPoolOptions, Microsoft.Extensions.Logging.ILogger?, System.Diagnostics.Metrics.IMeterFactory?,
            PredictionPool<TIn, TOut>> create)
    {
        ArgumentNullException.ThrowIfNull(modelName);
        var registration = new PredictionPoolRegistrations<TIn, TOut>.Registration(modelName, create);
        _registrations.Add(registration);
        Services.Configure<PredictionPoolOptions>(registration.OptionsName, options =>
        {
            Defaults?.Invoke(options);
            configure?.Invoke(options);
        });
        return this;
    }

    private static string NameOf(string modelName) => modelName.Length == 0 ? "default" : modelName;
}
