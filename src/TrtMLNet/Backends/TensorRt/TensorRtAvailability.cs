using TrtMLNet.Native;
using TrtMLNet.Native.TensorRt;

namespace TrtMLNet.Backends.TensorRt;

/// <summary>
/// Why the TensorRT backend cannot run in this process, in words a user can act on: what is missing
/// and how to get it. Backend selection (Auto) logs these reasons when it moves on to the next backend.
/// </summary>
internal static class TensorRtAvailability
{
    /// <summary>The TensorRT majors the shim can be built for.</summary>
    public static readonly int[] SupportedMajors = [10, 11];

    /// <summary>Null when the shim loads, has this assembly's ABI, and runs on the TensorRT major it was built for.</summary>
    public static string? WhyUnavailable()
    {
        var loaded = ShimLibrary.TryLoad(out var failure);
        return Explain(loaded ? ShimLibrary.Info : null, failure, ProbeNvInfer);
    }

    /// <summary>
    /// The reason, from what loading the shim gave (its info, or why it failed) and whether each
    /// TensorRT major's libnvinfer loads (<paramref name="nvInferFailure"/>: null when it does, else
    /// the loader's message).
    /// </summary>
    internal static string? Explain(ShimInfo? shim, string? shimFailure, Func<int, string?> nvInferFailure)
    {
        if (shim is not null)
        {
            if (shim.CompiledTensorRt.Major == shim.LoadedTensorRt.Major)
                return null;
            // The shim links libnvinfer by its major's file name, so this takes a copied or renamed library;
            // enum values and class layouts differ between majors, so nothing it did would be right.
            return $"The TensorRT shim was built against TensorRT {shim.CompiledTensorRt}'s headers, but the libnvinfer loaded is TensorRT {shim.LoadedTensorRt}, " +
                "another major version (its enum values and class layouts differ). Rebuild the shim against TensorRT " +
                $"{shim.LoadedTensorRt.Major} ({BuildCommand($"<TensorRT {shim.LoadedTensorRt.Major} folder>")}), or put TensorRT " +
                $"{shim.CompiledTensorRt.Major}'s lib folder first on {LibraryPathVariable}.";
        }

        var failures = SupportedMajors.Select(m => (Major: m, Failure: nvInferFailure(m))).ToList();
        var present = failures.Where(f => f.Failure is null).Select(f => NativeLibraries.NvInferFileName(f.Major)).ToList();
        if (present.Count > 0)
            return $"{shimFailure ?? "The TensorRT shim could not be loaded."} (TensorRT itself is installed: {string.Join(" and ", present)} " +
                $"load{(present.Count == 1 ? "s" : "")}.)";
        // Without TensorRT the shim's own failure (a dozen probed paths) says nothing more; what to do next does.
        var shimNext = shimFailure?.Contains("nvinfer", StringComparison.OrdinalIgnoreCase) == true
            ? $"The TrtMLNet shim ({NativeLibraries.ShimPath ?? ShimLibrary.ShimFileName}) is there and needs exactly these libraries."
            : $"Then build TrtMLNet's TensorRT shim against it ({BuildCommand("<TensorRT folder>")}) and put {ShimLibrary.ShimFileName} " +
              $"beside the application, or set {NativeLibraries.ShimPathVariable} to its full path.";
        return $"TensorRT is not installed: neither {string.Join(" nor ", SupportedMajors.Select(NativeLibraries.NvInferFileName))} can be loaded " +
            $"({NativeLibraries.FirstReason(failures[0].Failure!)}). {InstallHint} {shimNext}";
    }

    /// <summary>
    /// Null when some supported major's libnvinfer loads (what ONNX Runtime's TensorRT provider needs,
    /// without the shim), else that TensorRT is missing and how to install it.
    /// </summary>
    public static string? WhyNoNvInfer()
    {
        var failures = SupportedMajors.Select(ProbeNvInfer).ToList();
        return failures.Any(f => f is null)
            ? null
            : $"TensorRT is not installed: neither {string.Join(" nor ", SupportedMajors.Select(NativeLibraries.NvInferFileName))} can be loaded ({failures[0]}). {InstallHint}";
    }

    /// <summary>How to get TensorRT's libraries onto this machine.</summary>
    public static string InstallHint => OperatingSystem.IsWindows()
        ? "Install TensorRT 10 or 11 built for your CUDA (12.x or 13.x): unpack the TensorRT zip from https://developer.nvidia.com/tensorrt " +
          "and add its lib folder to PATH."
        : "Install TensorRT 10 or 11 built for your CUDA (12.x or 13.x): from NVIDIA's CUDA apt/dnf repository (the 'tensorrt' package, " +
          "or 'libnvinfer10' and 'libnvonnxparsers10'), or unpack the TensorRT tar file from https://developer.nvidia.com/tensorrt " +
          "and add its lib folder to LD_LIBRARY_PATH.";

    private static string LibraryPathVariable => OperatingSystem.IsWindows() ? "PATH" : "LD_LIBRARY_PATH";

    private static string BuildCommand(string root) =>
        $"cmake -S src/TrtMLNet.Shim -B build-native/shim -DTENSORRT_ROOT={root} && cmake --build build-native/shim";

    private static string? ProbeNvInfer(int major) =>
        NativeLibraries.TryProbe(NativeLibraries.NvInferFileName(major), out var failure) ? null : failure ?? "not found";
}
