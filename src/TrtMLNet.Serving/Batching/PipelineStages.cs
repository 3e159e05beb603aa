using Microsoft.ML;

namespace TrtMLNet.Serving.Batching;

/// <summary>What the pool needs to know about the stages of a fitted model.</summary>
internal static class PipelineStages
{
    /// <summary>Every TrtMLNet stage in the model, looking inside transformer chains.</summary>
    public static IEnumerable<TensorRtTransformer> TensorRtStages(ITransformer model) => model switch
    {
        TensorRtTransformer stage => [stage],
        IEnumerable<ITransformer> chain => chain.SelectMany(TensorRtStages),
        _ => [],
    };

    /// <summary>
    /// The largest batch the model accepts: the smallest <c>BatchSize</c> of its TrtMLNet stages, which is
    /// what their engines' profiles were built up to (a model with a fixed batch reports that size and is
    /// padded by TrtMLNet). Null when the model has no such stage: ML.NET stages take any batch.
    /// </summary>
    public static int? BatchLimit(ITransformer model)
    {
        var sizes = TensorRtStages(model).Select(s => s.BatchSize).ToList();
        return sizes.Count == 0 ? null : sizes.Min();
    }

    /// <summary>
    /// The batch sizes a warm-up runs, largest first: <paramref name="maxBatchSize"/>, every size the TrtMLNet
    /// stages pad to below it (each has its own tuned session and CUDA graphs), and a single row.
    /// </summary>
    public static IReadOnlyList<int> WarmupBatchSizes(ITransformer model, int maxBatchSize) =>
    [
        .. TensorRtStages(model).SelectMany(s => s.PaddedBatchSizes ?? []).Where(s => s < maxBatchSize)
            .Append(maxBatchSize).Append(1).Distinct().OrderDescending(),
    ];
}
