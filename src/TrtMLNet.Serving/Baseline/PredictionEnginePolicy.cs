using Microsoft.Extensions.ObjectPool;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace TrtMLNet.Serving.Baseline;

/// <summary>
/// What <c>PredictionEnginePool</c> (Microsoft.Extensions.ML) does, for comparison: an
/// <see cref="ObjectPool{T}"/> of <see cref="PredictionEngine{TSrc, TDst}"/>, one engine per concurrent
/// caller, one row per call. The benchmarks and the web sample's baseline endpoints use it.
/// </summary>
public sealed class PredictionEnginePolicy<TIn, TOut>(MLContext mlContext, ITransformer model, DataViewSchema? inputSchema = null)
    : IPooledObjectPolicy<PredictionEngine<TIn, TOut>>
    where TIn : class where TOut : class, new()
{
    public PredictionEngine<TIn, TOut> Create() => inputSchema is null
        ? mlContext.Model.CreatePredictionEngine<TIn, TOut>(model)
        : mlContext.Model.CreatePredictionEngine<TIn, TOut>(model, inputSchema);

    public bool Return(PredictionEngine<TIn, TOut> engine) => true;

    /// <summary>
    /// A pool as PredictionEnginePool makes it: as many engines kept as twice the processors. It is a plain
    /// DefaultObjectPool, which drops surplus engines without disposing them: disposing a PredictionEngine
    /// disposes the model under it (seen with ML.NET 5.0.1), which every other engine shares.
    /// </summary>
    public static ObjectPool<PredictionEngine<TIn, TOut>> CreatePool(MLContext mlContext, ITransformer model, DataViewSchema? inputSchema = null) =>
        new DefaultObjectPool<PredictionEngine<TIn, TOut>>(new PredictionEnginePolicy<TIn, TOut>(mlContext, model, inputSchema), Environment.ProcessorCount * 2);
}
