namespace TrtMLNet.Serving.Benchmarks;

public sealed record BenchmarkOptions(
    string Model,
    TensorRtBackend Backend,
    int? Device,
    string? ModelsFolder,
    int[] Clients,
    TimeSpan Duration,
    TimeSpan Warmup,
    int EngineBatchSize,
    int[]? BatchBuckets,
    int MaxBatchSize,
    TimeSpan MaxDelay,
    int MaxConcurrentBatches,
    int? Lanes,
    bool CudaGraphs,
    TensorRtPrecision Precision,
    string[] Baselines,
    string? Markdown);
