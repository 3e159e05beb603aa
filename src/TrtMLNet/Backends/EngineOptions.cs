namespace TrtMLNet.Backends;

/// <summary>What a backend needs to load or build an engine, resolved from the user's options and the columns.</summary>
internal sealed record EngineOptions
{
    /// <summary>A concrete backend (never Auto: selection has happened).</summary>
    public required TensorRtBackend Backend { get; init; }

    /// <summary>CUDA ordinal; ignored by the CPU backend.</summary>
    public int DeviceId { get; init; }

    public int? IntraOpThreads { get; init; }

    public TensorRtPrecision Precision { get; init; }

    public bool AllowTf32 { get; init; } = true;

    public long? WorkspaceBytes { get; init; }

    public TensorRtTacticSources EnableTactics { get; init; }

    public TensorRtTacticSources DisableTactics { get; init; }

    public int? BuilderOptimizationLevel { get; init; }

    public int? MaxAuxStreams { get; init; }

    /// <summary>A prebuilt TensorRT plan to load instead of building one (TensorRT backend only).</summary>
    public string? EngineFile { get; init; }

    /// <summary>Where built TensorRT engines are cached; null is the user's cache folder.</summary>
    public string? EngineCacheDirectory { get; init; }

    public string? TimingCacheFile { get; init; }

    public bool CudaGraphs { get; init; }

    /// <summary>Whether contexts should share scratch (ONNX Runtime's TensorRT provider: trt_context_memory_sharing_enable).</summary>
    public bool ShareScratch { get; init; } = true;

    /// <summary>Optimization profiles with every dimension resolved: per input, min/opt/max shapes.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, (long[] Min, long[] Opt, long[] Max)>> Profiles { get; init; } = [];
}
