using System.Reflection;
using System.Runtime.InteropServices;

namespace TrtMLNet.Native;

/// <summary>
/// Resolves the native libraries this assembly P/Invokes. One resolver per assembly is all .NET
/// allows, so every library name is mapped here: the CUDA driver has a different file name on each
/// OS, and the TensorRT shim can be pointed at another build (tests use a fake one).
/// </summary>
internal static class NativeLibraries
{
    public const string CudaDriver = "cuda";
    public const string TensorRtShim = "trtmlnet_shim";
    public const string NvJpeg = "nvjpeg";

    /// <summary>Environment variable naming the shim's full path; wins over <see cref="ShimPath"/>'s default probing.</summary>
    public const string ShimPathVariable = "TRTMLNET_SHIM_PATH";

    private static string? s_shimPath;

    /// <summary>Full path of the shim to load, or null to probe the usual places by name.</summary>
    public static string? ShimPath
    {
        get => s_shimPath ?? Environment.GetEnvironmentVariable(ShimPathVariable);
        set => s_shimPath = value;
    }

    public static void EnsureRegistered() => _ = s_registered;

    private static readonly bool s_registered = Register();

    private static bool Register()
    {
        NativeLibrary.SetDllImportResolver(typeof(NativeLibraries).Assembly, Resolve);
        return true;
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        switch (name)
        {
            case CudaDriver:
                foreach (var file in CudaDriverFileNames)
                    if (NativeLibrary.TryLoad(file, assembly, searchPath, out var handle))
                        return handle;
                return IntPtr.Zero;
            case NvJpeg:
                foreach (var file in NvJpegFileNames)
                    if (NativeLibrary.TryLoad(file, assembly, searchPath, out var nvjpeg))
                        return nvjpeg;
                return IntPtr.Zero;
            case TensorRtShim:
                var path = ShimPath;
                if (!string.IsNullOrEmpty(path))
                    return NativeLibrary.TryLoad(path, out var shim) ? shim : IntPtr.Zero;
                return NativeLibrary.TryLoad(TensorRtShim, assembly, searchPath, out var probed) ? probed : IntPtr.Zero;
            default:
                return IntPtr.Zero;
        }
    }

    public static IReadOnlyList<string> CudaDriverFileNames =>
        OperatingSystem.IsWindows() ? ["nvcuda.dll"] : ["libcuda.so.1", "libcuda.so"];

    /// <summary>Environment variable naming nvJPEG's full path; wins over probing <see cref="NvJpegFileNames"/>' defaults.</summary>
    public const string NvJpegPathVariable = "TRTMLNET_NVJPEG_PATH";

    /// <summary>
    /// nvJPEG's files, newest major first: CUDA 13's, 12's, 11's (the API TrtMLNet uses is the same in all
    /// three). <see cref="NvJpegPathVariable"/>, when set, is the only candidate.
    /// </summary>
    public static IReadOnlyList<string> NvJpegFileNames =>
        Environment.GetEnvironmentVariable(NvJpegPathVariable) is { Length: > 0 } path ? [path]
        : OperatingSystem.IsWindows() ? ["nvjpeg64_13.dll", "nvjpeg64_12.dll", "nvjpeg64_11.dll"]
        : ["libnvjpeg.so.13", "libnvjpeg.so.12", "libnvjpeg.so.11"];

    /// <summary>TensorRT's runtime library for a major version, as each OS names it.</summary>
    public static string NvInferFileName(int major) =>
        OperatingSystem.IsWindows() ? $"nvinfer_{major}.dll" : $"libnvinfer.so.{major}";

    /// <summary>
    /// The loader's reason in one line. .NET's message lists every path it probed, one per line, after
    /// advice about strace; what the user needs is the file the OS could not open and why.
    /// </summary>
    internal static string FirstReason(string message)
    {
        var lines = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.FirstOrDefault(l => l.Contains("cannot open", StringComparison.Ordinal) || l.Contains("not found", StringComparison.OrdinalIgnoreCase))
            ?? lines.FirstOrDefault()
            ?? message;
    }

    /// <summary>Whether a library loads, and if not, the loader's reason.</summary>
    public static bool TryProbe(string fileName, out string? failure)
    {
        try
        {
            var handle = NativeLibrary.Load(fileName);
            NativeLibrary.Free(handle);
            failure = null;
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
        {
            failure = FirstReason(e.Message);
            return false;
        }
    }
}
