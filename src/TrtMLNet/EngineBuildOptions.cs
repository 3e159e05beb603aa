namespace TrtMLNet;

/// <summary>
/// Everything that decides how an engine is built, in one record: <see cref="TensorRtOptions"/> keeps its
/// engine options in one, and fit adds the shapes it fixed (the options already validated). The backends
/// read it as it is; the TensorRT shim's struct is written from it; the engine cache keys on it.
/// </summary>
internal sealed record EngineBuildOptions
{
    public TensorRtPrecision Precision { get; init; }

    /// <summary>Op types the precision rewrite keeps in FP32 besides its default list.</summary>
    public IReadOnlyCollection<string> KeepFp32OpTypes { get; init; } = [];

    public bool AllowTf32 { get; init; } = true;

    /// <summary>ONNX Runtime only: fuse attention and residual layer norms into com.microsoft ops at fit (TransformerFusions).</summary>
    public bool FuseTransformerOps { get; init; } = true;

    /// <summary>The builder's workspace pool limit; null is TensorRT's default.</summary>
    public long? WorkspaceBytes { get; init; }

    public TensorRtTacticSources EnableTactics { get; init; }

    public TensorRtTacticSources DisableTactics { get; init; }

    /// <summary>0 to 5; null is TensorRT's default (3).</summary>
    public int? BuilderOptimizationLevel { get; init; }

    /// <summary>Null lets TensorRT decide; 0 keeps every layer on one stream.</summary>
    public int? MaxAuxStreams { get; init; }

    /// <summary>Optimization profiles with every dimension resolved: per input, min/opt/max shapes.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, (long[] Min, long[] Opt, long[] Max)>> Profiles { get; init; } = [];

    public string? TimingCacheFile { get; init; }

    public bool CudaGraphs { get; init; }

    /// <summary>ONNX Runtime CUDA only: convolutions in NHWC layout.</summary>
    public bool PreferNhwc { get; init; } = true;

    /// <summary>ONNX Runtime CUDA only.</summary>
    public CudnnConvolutionSearch ConvolutionSearch { get; init; }

    /// <summary>ONNX Runtime CUDA only.</summary>
    public bool CudnnMaxWorkspace { get; init; } = true;

    /// <summary>What <paramref name="options"/> hold (they keep their engine options in one of these), with the profiles fit resolved.</summary>
    public static EngineBuildOptions From(TensorRtOptions options, IReadOnlyList<IReadOnlyDictionary<string, (long[] Min, long[] Opt, long[] Max)>> profiles) =>
        options.Build with { KeepFp32OpTypes = options.KeepFp32OpTypes ?? [], Profiles = profiles };
}
