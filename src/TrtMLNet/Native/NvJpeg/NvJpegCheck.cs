namespace TrtMLNet.Native.NvJpeg;

/// <summary>Turns nvjpegStatus_t values into <see cref="NvJpegException"/>, with nvjpeg.h's name for the status and what it means.</summary>
internal static class NvJpegCheck
{
    internal static void ThrowIfFailed(NvJpegStatus status, string call) => NativeStatus.ThrowIfFailed(status, call, Failure);

    internal static NvJpegException Failure(NvJpegStatus status, string call) =>
        new(status, $"{call} failed: {NvJpegException.NameOf(status)} ({NvJpegException.Describe(status)})");
}
