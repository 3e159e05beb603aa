using TrtMLNet.Native.TensorRt;

namespace TrtMLNet.Backends.TensorRt;

/// <summary>
/// The timing cache file (TensorRtOptions.TimingCacheFile): kernel timings TensorRT measured in earlier
/// builds, which make the next build of a similar model much faster. It only ever speeds a build up,
/// so nothing about it is allowed to fail one: an unreadable file is reported and ignored, and so is
/// one TensorRT rejects (written by another TensorRT version or GPU).
/// </summary>
internal static class TimingCacheStore
{
    /// <summary>The file's bytes; null when there is none yet, or when it cannot be read (reported).</summary>
    public static byte[]? Read(string path, Action<string> warn)
    {
        try
        {
            var bytes = File.ReadAllBytes(path);
            return bytes.Length == 0 ? null : bytes;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            warn($"The TensorRT timing cache '{path}' cannot be read ({e.Message}); building without it.");
            return null;
        }
    }

    /// <summary>
    /// Replaces the file with the cache after a build, atomically: processes building at once each
    /// leave a whole cache, the last one's. A failure is reported; the engine is fine without it.
    /// </summary>
    public static void Write(string path, ShimHostMemoryHandle cache, Action<string> warn)
    {
        try
        {
            AtomicFile.Write(path, cache.CopyTo);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            warn($"The TensorRT timing cache '{path}' could not be updated ({e.Message}); the next build starts from the old one.");
        }
    }

    /// <summary>
    /// Whether a build failed because TensorRT would not take the timing cache. The shim reports it
    /// from createTimingCache or setTimingCache, as a TensorRT refusal naming the call.
    /// </summary>
    public static bool IsRejection(TensorRtException e) =>
        e.ErrorCode == TensorRtErrorCode.TensorRt
        && (e.NativeMessage.Contains("TimingCache", StringComparison.OrdinalIgnoreCase)
            || e.NativeMessage.Contains("timing cache", StringComparison.OrdinalIgnoreCase));
}
