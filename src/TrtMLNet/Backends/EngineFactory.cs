using Microsoft.ML.OnnxRuntime;
using TrtMLNet.Backends.OnnxRuntime;
using TrtMLNet.Native.Cuda;
using TrtMLNet.Onnx;

namespace TrtMLNet.Backends;

/// <summary>
/// Picks the backend and makes the engine. <see cref="TensorRtBackend.Auto"/> walks TensorRT, ONNX
/// Runtime's TensorRT provider, ONNX Runtime CUDA and the CPU, and every step it skips is reported with
/// the reason and what to install; an explicit backend that cannot run is an error naming why, unless
/// falling back to the CPU was asked for.
/// </summary>
internal static class EngineFactory
{
    private static readonly TensorRtBackend[] AutoOrder =
        [TensorRtBackend.TensorRt, TensorRtBackend.OnnxRuntimeTensorRt, TensorRtBackend.OnnxRuntimeCuda, TensorRtBackend.OnnxRuntimeCpu];

    /// <summary>
    /// Makes an engine for <paramref name="requested"/>, trying the next backend where allowed.
    /// <paramref name="makeOptions"/> completes the options for a backend (profiles depend on it).
    /// </summary>
    public static IInferenceEngine Create(
        ModelSource model,
        TensorRtBackend requested,
        bool? fallbackToCpu,
        int deviceId,
        Func<TensorRtBackend, EngineOptions> makeOptions,
        Action<string> warn,
        Action<string> info,
        List<SkippedBackend>? skipped = null)
    {
        var candidates = requested == TensorRtBackend.Auto ? AutoOrder : [requested];
        var cpuAllowed = requested == TensorRtBackend.Auto ? fallbackToCpu != false : fallbackToCpu == true;
        if (requested != TensorRtBackend.Auto && requested != TensorRtBackend.OnnxRuntimeCpu && cpuAllowed)
            candidates = [requested, TensorRtBackend.OnnxRuntimeCpu];
        var reasons = skipped ?? [];
        foreach (var backend in candidates)
        {
            if (backend == TensorRtBackend.OnnxRuntimeCpu && requested != TensorRtBackend.OnnxRuntimeCpu && !cpuAllowed)
                break;
            var why = WhyUnavailable(backend, deviceId);
            if (why is null)
            {
                try
                {
                    var engine = Make(model, makeOptions(backend), warn, info);
                    if (reasons.Count > 0)
                        warn($"{model.Name} runs on {engine.Description}. Skipped: {string.Join(" ", reasons)}");
                    return engine;
                }
                catch (Exception e) when (candidates.Length > 1 && backend != candidates[^1] && IsUnavailability(e))
                {
                    why = e.Message;
                }
            }
            reasons.Add(new SkippedBackend(backend, why));
        }
        throw new InvalidOperationException(
            $"No backend can run {model.Name} (asked for {requested}{(cpuAllowed ? "" : ", without falling back to the CPU")}): {string.Join(" ", reasons)}" +
            (cpuAllowed || requested == TensorRtBackend.OnnxRuntimeCpu ? "" : " Set FallbackToCpu = true to run on the CPU instead."));
    }

    /// <summary>Why a backend cannot run here, with what to install; null when it may.</summary>
    public static string? WhyUnavailable(TensorRtBackend backend, int deviceId)
    {
        switch (backend)
        {
            case TensorRtBackend.OnnxRuntimeCpu:
                return null;
            case TensorRtBackend.OnnxRuntimeCuda:
                return WhyNoGpu(deviceId) ?? WhyNoProvider("CUDAExecutionProvider", "Microsoft.ML.OnnxRuntime.Gpu (or .Gpu.Linux / .Gpu.Windows)");
            case TensorRtBackend.OnnxRuntimeTensorRt:
                return WhyNoGpu(deviceId)
                    ?? WhyNoProvider("TensorrtExecutionProvider", "Microsoft.ML.OnnxRuntime.Gpu (or .Gpu.Linux / .Gpu.Windows)")
                    ?? TensorRt.TensorRtAvailability.WhyNoNvInfer();
            case TensorRtBackend.TensorRt:
                // Both reasons when both apply: someone told only "no GPU" would fix that and then meet the next.
                return Join(TensorRt.TensorRtEngineLoader.WhyUnavailable(), WhyNoGpu(deviceId));
            default:
                return $"{backend} is not a backend.";
        }
    }

    /// <summary>
    /// The engine, with the precision each backend takes its own way: TensorRT (10: builder flags, 11: the
    /// rewritten model), ONNX Runtime's TensorRT provider (its flags), ONNX Runtime CUDA (the rewritten
    /// model), the CPU (FP32, its transformer ops fused as on CUDA).
    /// </summary>
    private static IInferenceEngine Make(ModelSource model, EngineOptions options, Action<string> warn, Action<string> info)
    {
        switch (options.Backend)
        {
            case TensorRtBackend.TensorRt:
                return TensorRt.TensorRtEngineLoader.Create(model, options, warn, info);
            case TensorRtBackend.OnnxRuntimeCuda or TensorRtBackend.OnnxRuntimeCpu:
                var build = options.Build;
                if (options.Backend == TensorRtBackend.OnnxRuntimeCpu && build.Precision != TensorRtPrecision.Fp32)
                {
                    warn($"{model.Name} runs in FP32 on the CPU: {build.Precision} is for GPUs.");
                    build = build with { Precision = TensorRtPrecision.Fp32 };
                }
                var rewritten = RewrittenModels.For(model, build, options.EngineCacheDirectory ?? TensorRt.EngineCache.DefaultDirectory, info, warn);
                return OnnxRuntimeEngine.Create(rewritten.OnnxBytes, rewritten.Onnx, options, rewritten.Name, warn);
            default:
                return OnnxRuntimeEngine.Create(model.OnnxBytes, model.Onnx, options, model.Name, warn);
        }
    }

    /// <summary>Failures that mean "this backend cannot run here" rather than "this model is wrong".</summary>
    private static bool IsUnavailability(Exception e) =>
        e is DllNotFoundException or EntryPointNotFoundException or CudaException or OnnxRuntimeException
        || e.InnerException is OnnxRuntimeException or DllNotFoundException;

    private static string? Join(string? first, string? second) =>
        first is null ? second : second is null ? first : $"{first} Also: {second}";

    private static string? WhyNoGpu(int deviceId)
    {
        if (!CudaDriver.IsAvailable(out var reason))
            return $"No GPU: {reason}";
        if (deviceId < 0 || deviceId >= CudaDriver.DeviceCount)
            return $"GPU {deviceId} does not exist: this machine has {CudaDriver.DeviceCount} CUDA device(s).";
        return null;
    }

    private static string? WhyNoProvider(string provider, string package)
    {
        var available = OrtEnv.Instance().GetAvailableProviders();
        return available.Contains(provider)
            ? null
            : $"The ONNX Runtime in this application has no {provider} (it has {string.Join(", ", available)}): reference the {package} package instead of " +
                $"Microsoft.ML.OnnxRuntime.";
    }
}
