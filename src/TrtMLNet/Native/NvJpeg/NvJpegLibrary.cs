using System.Runtime.InteropServices;
using TrtMLNet.Native.Cuda;

namespace TrtMLNet.Native.NvJpeg;

/// <summary>
/// Whether nvJPEG can be used here, and if not why, in words a user can act on (no GPU, library not
/// installed, library too old), the way <see cref="CudaDriver.IsAvailable"/> does for the driver: nothing
/// here lets a DllNotFoundException or EntryPointNotFoundException reach the user.
/// </summary>
internal static class NvJpegLibrary
{
    private static readonly Lazy<ProbeResult> s_probe = new(() => Probe(NativeLibraries.NvJpegFileNames), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>What probing found: the file that loaded and its version, or why none can be used.</summary>
    internal sealed record ProbeResult(string? FileName, Version? Version, string? Failure)
    {
        public bool Loaded => Failure is null;
    }

    /// <summary>Whether nvJPEG and a GPU are both there; otherwise why not.</summary>
    public static bool IsAvailable(out string? reason)
    {
        if (!CudaDriver.IsAvailable(out var noGpu))
        {
            reason = $"nvJPEG decodes on a GPU, and {noGpu}";
            return false;
        }
        var probe = s_probe.Value;
        reason = probe.Failure;
        return probe.Loaded;
    }

    /// <summary>The library's version (nvjpegGetProperty), or null when it does not load.</summary>
    public static Version? Version => s_probe.Value.Version;

    /// <summary>The file that loaded (libnvjpeg.so.13, ...), or null.</summary>
    public static string? FileName => s_probe.Value.FileName;

    /// <summary>Throws <see cref="NvJpegException"/> saying why, unless nvJPEG and a GPU are there.</summary>
    public static void EnsureAvailable()
    {
        if (!IsAvailable(out var reason))
            throw new NvJpegException(NvJpegStatus.NotInitialized, $"nvJPEG cannot be used: {reason}");
    }

    /// <summary>
    /// Loads the first of <paramref name="candidates"/> that loads, checks it exports every function
    /// <see cref="NvJpegApi"/> imports, and reads its version. Touches no GPU.
    /// </summary>
    internal static unsafe ProbeResult Probe(IReadOnlyList<string> candidates)
    {
        string? firstFailure = null;
        foreach (var file in candidates)
        {
            IntPtr library;
            try
            {
                library = NativeLibrary.Load(file, typeof(NvJpegLibrary).Assembly, null);
            }
            catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
            {
                firstFailure ??= NativeLibraries.FirstReason(e.Message);
                continue;
            }
            try
            {
                var missing = NvJpegApi.EntryPoints.Where(name => !NativeLibrary.TryGetExport(library, name, out _)).ToArray();
                if (missing.Length > 0)
                    return new(file, null,
                        $"{file} is too old for TrtMLNet: it lacks {string.Join(", ", missing)}. Install nvJPEG from CUDA 11.0 or later (CUDA 12 or 13 preferred).");
                var getProperty = (delegate* unmanaged<LibraryProperty, int*, NvJpegStatus>)NativeLibrary.GetExport(library, "nvjpegGetProperty");
                int major, minor, patch;
                if (getProperty(LibraryProperty.MajorVersion, &major) != NvJpegStatus.Success
                    || getProperty(LibraryProperty.MinorVersion, &minor) != NvJpegStatus.Success
                    || getProperty(LibraryProperty.PatchLevel, &patch) != NvJpegStatus.Success)
                    return new(file, null, $"{file} loads but does not report its version (nvjpegGetProperty failed); reinstall nvJPEG.");
                return new(file, new Version(major, minor, patch), null);
            }
            finally
            {
                NativeLibrary.Free(library);
            }
        }
        return new(null, null,
            $"nvJPEG is not installed: none of {string.Join(", ", candidates)} loads ({firstFailure ?? "no candidates"}). " +
            "Install the CUDA toolkit's nvJPEG (the libnvjpeg package of your CUDA version) or point " +
            $"{NativeLibraries.NvJpegPathVariable} at the library.");
    }
}
