namespace TrtMLNet.Native;

/// <summary>
/// The status check every native library's calls go through. The CUDA driver (CUresult), nvJPEG
/// (nvjpegStatus_t) and the TensorRT shim (trts_status_code) all return 0 for success; only the typed
/// exception, which carries the native error, differs, so each library passes its own factory.
/// </summary>
internal static class NativeStatus
{
    public static void ThrowIfFailed<TStatus>(TStatus status, string call, Func<TStatus, string, Exception> failure)
        where TStatus : struct, Enum
    {
        if (!EqualityComparer<TStatus>.Default.Equals(status, default))
            throw failure(status, call);
    }
}
