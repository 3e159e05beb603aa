using TrtMLNet;

namespace Microsoft.ML;

/// <summary>
/// <c>mlContext.Transforms.ApplyTensorRt(...)</c>: the overloads mirror <c>ApplyOnnxModel</c>'s, with the
/// batch size added. Column names are the model's tensor names, as there.
/// </summary>
public static class TensorRtCatalog
{
    /// <summary>Scores every input and output of the ONNX model in <paramref name="modelFile"/>.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="modelFile">The ONNX model.</param>
    /// <param name="gpuDeviceId">The GPU; null takes MLContext.GpuDeviceId, then GPU 0.</param>
    /// <param name="fallbackToCpu">See <see cref="TensorRtOptions.FallbackToCpu"/>.</param>
    /// <param name="batchSize">Rows per batch.</param>
    public static TensorRtEstimator ApplyTensorRt(this TransformsCatalog catalog, string modelFile,
        int? gpuDeviceId = null, bool? fallbackToCpu = null, int batchSize = TensorRtOptions.DefaultBatchSize) =>
        catalog.ApplyTensorRt(FromArguments(modelFile, outputColumnNames: null, inputColumnNames: null, shapeDictionary: null, gpuDeviceId, fallbackToCpu, batchSize));

    /// <summary>Feeds one input column to the model and appends one output column.</summary>
    public static TensorRtEstimator ApplyTensorRt(this TransformsCatalog catalog, string outputColumnName, string inputColumnName, string modelFile,
        int? gpuDeviceId = null, bool? fallbackToCpu = null, int batchSize = TensorRtOptions.DefaultBatchSize) =>
        catalog.ApplyTensorRt([outputColumnName], [inputColumnName], modelFile, gpuDeviceId, fallbackToCpu, batchSize);

    /// <summary>Feeds several input columns and appends several output columns.</summary>
    public static TensorRtEstimator ApplyTensorRt(this TransformsCatalog catalog, string[] outputColumnNames, string[] inputColumnNames, string modelFile,
        int? gpuDeviceId = null, bool? fallbackToCpu = null, int batchSize = TensorRtOptions.DefaultBatchSize) =>
        catalog.ApplyTensorRt(outputColumnNames, inputColumnNames, modelFile, shapeDictionary: null, gpuDeviceId, fallbackToCpu, batchSize);

    /// <summary>As above, with shapes for inputs the model and the columns leave open.</summary>
    public static TensorRtEstimator ApplyTensorRt(this TransformsCatalog catalog, string[] outputColumnNames, string[] inputColumnNames, string modelFile,
        IDictionary<string, int[]>? shapeDictionary, int? gpuDeviceId = null, bool? fallbackToCpu = null, int batchSize = TensorRtOptions.DefaultBatchSize) =>
        catalog.ApplyTensorRt(FromArguments(modelFile, outputColumnNames, inputColumnNames, shapeDictionary, gpuDeviceId, fallbackToCpu, batchSize));

    /// <summary>Every option, including backend, concurrency, scratch sharing and engine building.</summary>
    public static TensorRtEstimator ApplyTensorRt(this TransformsCatalog catalog, TensorRtOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new TensorRtEstimator(HostEnvironment.From(catalog), options);
    }

    // Null columns mean every input and output of the model, as in TensorRtOptions.
    private static TensorRtOptions FromArguments(string modelFile, string[]? outputColumnNames, string[]? inputColumnNames,
        IDictionary<string, int[]>? shapeDictionary, int? gpuDeviceId, bool? fallbackToCpu, int batchSize) =>
        new()
        {
            ModelFile = modelFile,
            OutputColumns = outputColumnNames,
            InputColumns = inputColumnNames,
            ShapeDictionary = shapeDictionary,
            DeviceId = gpuDeviceId,
            FallbackToCpu = fallbackToCpu,
            BatchSize = batchSize,
        };
}
