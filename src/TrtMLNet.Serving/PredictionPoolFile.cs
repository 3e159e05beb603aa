using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.ML;

namespace TrtMLNet.Serving;

/// <summary>Pools over model files.</summary>
public static class PredictionPool
{
    /// <summary>
    /// A pool over the ML.NET model file at <paramref name="path"/>, loaded with <c>LoadWithTensorRt</c>
    /// (ApplyTensorRt stages come back batched, on the GPU where there is one). With
    /// <paramref name="watchForChanges"/>, a new file at that path replaces the model while the pool serves:
    /// requests batched after the new model has warmed up go to it, batches running finish on the old one,
    /// which is then disposed. A file that does not load leaves the old model serving (see
    /// <see cref="PredictionPool{TIn, TOut}.LastReloadError"/>).
    /// </summary>
    /// <param name="mlContext">The context to load with.</param>
    /// <param name="path">An ML.NET model file (.zip), saved with <c>mlContext.Model.Save</c>.</param>
    /// <param name="watchForChanges">Reload the model when the file changes.</param>
    /// <param name="options">Batching, queue and warm-up.</param>
    /// <param name="configureTensorRt">
    /// Changes the saved TrtMLNet options on load (backend, device, ...). After it, a stage with no
    /// <see cref="TensorRtOptions.BatchBuckets"/> (saved or set here) gets <see cref="TensorRtOptions.PowerOfTwoBuckets"/>
    /// of its BatchSize; set them to <c>[]</c> here to pad every batch to the full size instead.
    /// </param>
    /// <param name="name">The pool's name in errors, logs, metrics and health checks.</param>
    /// <param name="logger">Where reloads and failures are logged.</param>
    /// <param name="meterFactory">Creates the pool's meter; null makes one of its own.</param>
    public static PredictionPool<TIn, TOut> FromFile<TIn, TOut>(MLContext mlContext, string path, bool watchForChanges = false,
        PredictionPoolOptions? options = null, Action<TensorRtOptions>? configureTensorRt = null, string name = "default",
        ILogger? logger = null, IMeterFactory? meterFactory = null)
        where TIn : class where TOut : class, new()
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new FileNotFoundException($"The model file '{full}' of prediction pool '{name}' does not exist.", full);
        configureTensorRt = ServingDefaults(configureTensorRt);
        var (model, schema) = ModelFileWatcher.Load(mlContext, full, configureTensorRt);
        var pool = new PredictionPool<TIn, TOut>(mlContext, model, options, schema, name, logger, meterFactory, ownsModel: true, source: $"'{full}'");
        if (watchForChanges)
            pool.Watch(ModelFileWatcher.Start(pool, mlContext, full, configureTensorRt));
        return pool;
    }

    /// <summary>
    /// The options a pool loads a model file with. A served batch holds the requests waiting, often a few; on an
    /// engine tuned per batch size (ONNX Runtime CUDA) one request padded to a batch of 64 costs a batch of 64:
    /// on the H200, ResNet-50 served one client 104 requests/s padded, 372 with buckets (docs/serving.md). So
    /// buckets are the default where a model has convolutions (only those pay for a new shape), each costing a
    /// session more on the device; the saved options and the caller's come first.
    /// </summary>
    internal static Action<TensorRtOptions> ServingDefaults(Action<TensorRtOptions>? configure) => options =>
    {
        // The caller's changes first: a BatchSize lowered on load must size the buckets.
        configure?.Invoke(options);
        options.BatchBuckets ??= TensorRtOptions.PowerOfTwoBuckets(options.BatchSize);
    };
}
