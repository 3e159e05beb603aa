using System.Runtime.InteropServices;
using TrtMLNet.Backends.TensorRt;
using TrtMLNet.Native;
using TrtMLNet.Native.Cuda;
using TrtMLNet.Native.TensorRt;

namespace TrtMLNet.Tests.TensorRt;

/// <summary>
/// Whether this test process runs against the real TensorRT: the real shim (found through
/// TRTMLNET_SHIM_PATH or beside the tests), the libnvinfer it links, and a GPU. Decided once per
/// process, before either shim is bound, because the shim's functions bind to one library per process:
/// with real TensorRT here the fake-shim tests skip, and without it the real ones do, each saying why.
/// </summary>
/// <remarks>
/// To run the real tests where TensorRT is installed: build the shim
/// (<c>cmake -S src/TrtMLNet.Shim -B build-native/shim -DTENSORRT_ROOT=/opt/TensorRT-10.x &amp;&amp; cmake --build build-native/shim</c>), then
/// <c>TRTMLNET_SHIM_PATH=$PWD/build-native/shim/libtrtmlnet_shim.so dotnet test tests/TrtMLNet.Tests -- --filter-class "*RealTensorRt*"</c>
/// (on the GPU machine, the published test executable takes the same variable and filter). Set
/// TRTMLNET_TEST_FAKE_SHIM=1 to run the fake-shim tests on such a machine instead.
/// </remarks>
internal static class RealTensorRt
{
    public const string ForceFakeVariable = "TRTMLNET_TEST_FAKE_SHIM";

    private static readonly Lazy<string?> s_whyNot = new(Probe, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>True when this process tests the real TensorRT (and the fake shim must stay unloaded).</summary>
    public static bool Available => s_whyNot.Value is null;

    /// <summary>Skips the calling test, saying what is missing, unless real TensorRT is here.</summary>
    public static void Require()
    {
        if (s_whyNot.Value is { } why)
            Assert.Skip($"Needs TensorRT, the real TrtMLNet shim and a GPU (see RealTensorRt for how to run it). Here: {why}");
        if (!ShimLibrary.TryLoad(out var reason))
            Assert.Fail($"The real shim was found but does not load as the TensorRT shim: {reason}");
    }

    /// <summary>Looks without binding the shim's P/Invokes, which would pin this process to whichever library answered first.</summary>
    private static string? Probe()
    {
        if (Environment.GetEnvironmentVariable(ForceFakeVariable) == "1")
            return $"{ForceFakeVariable}=1 asks for the fake shim in this run.";
        var missing = new List<string>();
        var path = Environment.GetEnvironmentVariable(NativeLibraries.ShimPathVariable);
        var candidate = string.IsNullOrEmpty(path) ? Path.Combine(AppContext.BaseDirectory, ShimLibrary.ShimFileName) : path;
        if (!NativeLibrary.TryLoad(candidate, out var shim) && !NativeLibrary.TryLoad(ShimLibrary.ShimFileName, out shim))
        {
            missing.Add(string.IsNullOrEmpty(path)
                ? $"no {ShimLibrary.ShimFileName} beside the tests or on the library path, and {NativeLibraries.ShimPathVariable} is not set"
                : $"{NativeLibraries.ShimPathVariable}={path} does not load (or its libnvinfer does not)");
        }
        else if (NativeLibrary.TryGetExport(shim, "trts_fake_calls", out _))
        {
            missing.Add($"the shim found ({candidate}) is the fake one");
        }
        var nvinfer = TensorRtAvailability.SupportedMajors.Select(NativeLibraries.NvInferFileName).ToList();
        if (!nvinfer.Any(name => NativeLibraries.TryProbe(name, out _)))
            missing.Add($"neither {string.Join(" nor ", nvinfer)} loads");
        if (!CudaDriver.IsAvailable(out var noGpu))
            missing.Add($"no GPU ({noGpu})");
        return missing.Count == 0 ? null : string.Join("; ", missing) + ".";
    }
}
