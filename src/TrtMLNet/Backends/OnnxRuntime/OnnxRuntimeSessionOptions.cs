using System.Globalization;
using Microsoft.ML.OnnxRuntime;

namespace TrtMLNet.Backends.OnnxRuntime;

/// <summary>ONNX Runtime session options for each backend, with TrtMLNet's options mapped to the providers' keys.</summary>
internal static class OnnxRuntimeSessionOptions
{
    public static string ProviderName(TensorRtBackend backend) => backend switch
    {
        TensorRtBackend.OnnxRuntimeCpu => "CPU",
        TensorRtBackend.OnnxRuntimeCuda => "CUDA",
        TensorRtBackend.OnnxRuntimeTensorRt => "TensorRT",
        _ => backend.ToString(),
    };

    public static SessionOptions Create(EngineOptions options)
    {
        switch (options.Backend)
        {
            case TensorRtBackend.OnnxRuntimeCpu:
                var cpu = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
                if (options.IntraOpThreads is { } threads)
                    cpu.IntraOpNumThreads = threads;
                // Several lanes run at once; threads spinning between ops would steal their cores.
                cpu.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
                return cpu;
            case TensorRtBackend.OnnxRuntimeCuda:
                using (var cuda = new OrtCUDAProviderOptions())
                {
                    cuda.UpdateOptions(CudaProviderKeys(options));
                    return Optimized(SessionOptions.MakeSessionOptionWithCudaProvider(cuda));
                }
            case TensorRtBackend.OnnxRuntimeTensorRt:
                using (var trt = new OrtTensorRTProviderOptions())
                {
                    trt.UpdateOptions(TensorRtProviderKeys(options));
                    // Nodes TensorRT cannot take fall back to CUDA on the same device.
                    return Optimized(SessionOptions.MakeSessionOptionWithTensorrtProvider(trt));
                }
            default:
                throw new ArgumentOutOfRangeException(nameof(options), options.Backend, "Not an ONNX Runtime backend.");
        }
    }

    /// <summary>Set to a folder, every GPU session writes the graph ONNX Runtime runs there (fusions, copies, layouts): for finding out why a model is slow.</summary>
    public const string SaveOptimizedGraphsVariable = "TRTMLNET_ORT_OPTIMIZED_GRAPHS";

    private static SessionOptions Optimized(SessionOptions session)
    {
        session.GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL;
        if (Environment.GetEnvironmentVariable(SaveOptimizedGraphsVariable) is { Length: > 0 } folder)
        {
            Directory.CreateDirectory(folder);
            session.OptimizedModelFilePath = Path.Combine(folder, $"session-{DateTime.UtcNow:HHmmss}-{Guid.NewGuid():N}.onnx");
        }
        return session;
    }

    /// <summary>TrtMLNet's engine options as keys of ONNX Runtime's CUDA provider (OrtCUDAProviderOptionsV2).</summary>
    public static Dictionary<string, string> CudaProviderKeys(EngineOptions options) => new()
    {
        ["device_id"] = Invariant(options.DeviceId),
        ["use_tf32"] = options.Build.AllowTf32 ? "1" : "0",
        ["prefer_nhwc"] = options.Build.PreferNhwc ? "1" : "0",
        ["cudnn_conv_algo_search"] = options.Build.ConvolutionSearch switch
        {
            CudnnConvolutionSearch.Heuristic => "HEURISTIC",
            CudnnConvolutionSearch.Default => "DEFAULT",
            _ => "EXHAUSTIVE",
        },
        ["cudnn_conv_use_max_workspace"] = options.Build.CudnnMaxWorkspace ? "1" : "0",
        ["enable_cuda_graph"] = options.Build.CudaGraphs ? "1" : "0",
    };

    /// <summary>
    /// TrtMLNet's engine options as keys of ONNX Runtime's TensorRT provider
    /// (OrtTensorRTProviderOptionsV2, tensorrt_provider_options.h); options left unset stay ONNX Runtime's defaults.
    /// </summary>
    public static Dictionary<string, string> TensorRtProviderKeys(EngineOptions options)
    {
        var keys = new Dictionary<string, string>
        {
            ["device_id"] = Invariant(options.DeviceId),
            ["trt_engine_cache_enable"] = "1",
            ["trt_engine_cache_path"] = options.EngineCacheDirectory ?? TensorRt.EngineCache.DefaultDirectory,
            ["trt_context_memory_sharing_enable"] = options.ShareScratch ? "1" : "0",
        };
        if (options.Build.WorkspaceBytes is { } workspace)
            keys["trt_max_workspace_size"] = Invariant(workspace);
        if (options.Build.Precision == TensorRtPrecision.Fp16)
            keys["trt_fp16_enable"] = "1";
        if (options.Build.Precision == TensorRtPrecision.Bf16)
            keys["trt_bf16_enable"] = "1";
        if (TacticSources(options.Build.EnableTactics, options.Build.DisableTactics) is { } tactics)
            keys["trt_tactic_sources"] = tactics;
        if (options.Build.BuilderOptimizationLevel is { } level)
            keys["trt_builder_optimization_level"] = Invariant(level);
        if (options.Build.MaxAuxStreams is { } aux)
            keys["trt_auxiliary_streams"] = Invariant(aux);
        if (options.Build.TimingCacheFile is { } timing)
        {
            keys["trt_timing_cache_enable"] = "1";
            // The provider takes a folder and names the file itself.
            keys["trt_timing_cache_path"] = Path.GetDirectoryName(Path.GetFullPath(timing)) ?? ".";
        }
        if (options.Build.CudaGraphs)
            keys["trt_cuda_graph_enable"] = "1";
        if (options.Build.Profiles.Count > 0)
        {
            // Several profiles are written by listing a tensor once per profile (ONNX Runtime PR #15546).
            keys["trt_profile_min_shapes"] = ProfileShapes(options.Build.Profiles, r => r.Min);
            keys["trt_profile_opt_shapes"] = ProfileShapes(options.Build.Profiles, r => r.Opt);
            keys["trt_profile_max_shapes"] = ProfileShapes(options.Build.Profiles, r => r.Max);
        }
        return keys;
    }

    private static string? TacticSources(TensorRtTacticSources enable, TensorRtTacticSources disable)
    {
        var parts = new List<string>();
        foreach (var (flag, name) in TacticNames)
        {
            if (enable.HasFlag(flag)) parts.Add("+" + name);
            if (disable.HasFlag(flag)) parts.Add("-" + name);
        }
        return parts.Count == 0 ? null : string.Join(",", parts);
    }

    private static readonly (TensorRtTacticSources Flag, string Name)[] TacticNames =
    [
        (TensorRtTacticSources.Cublas, "CUBLAS"),
        (TensorRtTacticSources.CublasLt, "CUBLAS_LT"),
        (TensorRtTacticSources.Cudnn, "CUDNN"),
        (TensorRtTacticSources.EdgeMaskConvolutions, "EDGE_MASK_CONVOLUTIONS"),
        (TensorRtTacticSources.JitConvolutions, "JIT_CONVOLUTIONS"),
    ];

    private static string ProfileShapes(
        IReadOnlyList<IReadOnlyDictionary<string, (long[] Min, long[] Opt, long[] Max)>> profiles,
        Func<(long[] Min, long[] Opt, long[] Max), long[]> pick) =>
        string.Join(",", profiles.SelectMany(p => p.Select(t => $"{t.Key}:{string.Join("x", pick(t.Value).Select(Invariant))}")));

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}
