using TrtMLNet.Native;

namespace TrtMLNet.Backends.TensorRt;

/// <summary>Loads or builds TensorRT engines through the native shim.</summary>
internal static class TensorRtEngineLoader
{
    public static string? WhyUnavailable()
    {
        if (!NativeLibraries.TryProbe(NativeLibraries.NvInferFileName(10), out var failure10) && !NativeLibraries.TryProbe(NativeLibraries.NvInferFileName(11), out _))
            return $"TensorRT's runtime ({NativeLibraries.NvInferFileName(10)} or {NativeLibraries.NvInferFileName(11)}) is not installed ({failure10}).";
        return "TrtMLNet's TensorRT shim is not built yet.";
    }

    public static IInferenceEngine Create(ModelSource model, EngineOptions options) =>
        throw new NotSupportedException(WhyUnavailable());
}
