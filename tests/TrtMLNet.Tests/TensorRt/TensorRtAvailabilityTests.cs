using System.Text.Json;
using TrtMLNet.Backends;
using TrtMLNet.Backends.TensorRt;
using TrtMLNet.Native;
using TrtMLNet.Native.TensorRt;
using TrtMLNet.Tests.Models;

namespace TrtMLNet.Tests.TensorRt;

/// <summary>
/// Why the TensorRT backend is unavailable, in words that say what to install: from the shim's own
/// answers (the fake's, steered), and for real on this machine, which has no TensorRT.
/// </summary>
[Collection(TensorRtShimCollection.Name)]
public sealed class TensorRtAvailabilityTests
{
    private const string AutoChainMode = "tensorrt-auto-chain";

    private static string? NoNvInfer(int major) => $"Unable to load shared library '{NativeLibraries.NvInferFileName(major)}'\n{NativeLibraries.NvInferFileName(major)}: cannot open shared object file: No such file or directory";

    private static string? Only10(int major) => major == 10 ? null : NoNvInfer(major);

    [Fact]
    public void A_shim_on_the_major_it_was_built_for_is_available()
    {
        FakeShim.Require();
        var shim = ShimLibrary.Probe(out var failure);

        Assert.Null(TensorRtAvailability.Explain(shim, failure, NoNvInfer));
    }

    [Fact]
    public void A_shim_built_for_another_major_than_the_libnvinfer_loaded_is_not()
    {
        FakeShim.Require();
        FakeShim.SetVersions(abi: 1, 10, 16, 0, 11, 1, 0, 106);
        var shim = ShimLibrary.Probe(out var failure);

        var reason = TensorRtAvailability.Explain(shim, failure, Only10);

        Assert.NotNull(reason);
        Assert.Contains("TensorRT 10.16.0's headers", reason);
        Assert.Contains("TensorRT 11.1.0.106", reason);
        Assert.Contains("Rebuild the shim against TensorRT 11", reason);
        Assert.Contains("-DTENSORRT_ROOT=", reason);
    }

    [Fact]
    public void A_shim_of_another_abi_is_not_and_the_reason_says_to_rebuild_it()
    {
        FakeShim.Require();
        FakeShim.SetVersions(abi: 2, 10, 16, 0, 10, 16, 0, 72);
        var shim = ShimLibrary.Probe(out var failure);

        var reason = TensorRtAvailability.Explain(shim, failure, Only10);

        Assert.NotNull(reason);
        Assert.Contains("ABI version 2", reason);
        Assert.Contains("rebuild the shim", reason);
        Assert.Contains($"TensorRT itself is installed: {NativeLibraries.NvInferFileName(10)} loads", reason);
    }

    [Fact]
    public void Without_libnvinfer_the_reason_names_it_and_how_to_install_tensorrt_then_the_shim()
    {
        var shimFailure = $"The TensorRT shim ({ShimLibrary.ShimFileName}) could not be loaded (Unable to load shared library 'trtmlnet_shim'\n/app/libtrtmlnet_shim.so: cannot open shared object file). Build it ...";

        var reason = TensorRtAvailability.Explain(null, shimFailure, NoNvInfer);

        Assert.NotNull(reason);
        Assert.Contains($"neither {NativeLibraries.NvInferFileName(10)} nor {NativeLibraries.NvInferFileName(11)} can be loaded", reason);
        Assert.Contains($"({NativeLibraries.NvInferFileName(10)}: cannot open shared object file: No such file or directory)", reason);
        Assert.Contains("Install TensorRT 10 or 11 built for your CUDA (12.x or 13.x)", reason);
        Assert.Contains("Then build TrtMLNet's TensorRT shim against it (cmake -S src/TrtMLNet.Shim", reason);
        Assert.Contains($"set {NativeLibraries.ShimPathVariable} to its full path", reason);
        Assert.DoesNotContain("/app/libtrtmlnet_shim.so", reason); // the probed paths add nothing while TensorRT is missing
    }

    [Fact]
    public void A_shim_that_is_there_without_its_libnvinfer_is_not_told_to_be_built()
    {
        var shimFailure = $"The TensorRT shim /app/{ShimLibrary.ShimFileName} could not be loaded (libnvinfer.so.10: cannot open shared object file).";

        var reason = TensorRtAvailability.Explain(null, shimFailure, NoNvInfer);

        Assert.NotNull(reason);
        Assert.Contains("Install TensorRT 10 or 11", reason);
        Assert.Contains("is there and needs exactly these libraries", reason);
        Assert.DoesNotContain("Then build", reason);
    }

    // ---- this machine, in a process that never loaded the fake shim ----

    internal static void RegisterChildModes() => ChildProcess.Register(AutoChainMode, modelPath =>
    {
        var model = ModelSource.Load(modelPath);
        EngineOptions Options(TensorRtBackend backend) => new()
        {
            Backend = backend,
            Build = new EngineBuildOptions { Profiles = [TestProfiles.Of(("features", [1, TestModels.MlpFeatures], [8, TestModels.MlpFeatures], [8, TestModels.MlpFeatures]))] },
        };
        var answers = new Dictionary<string, string?>
        {
            ["loader"] = TensorRtEngineLoader.WhyUnavailable(),
            ["factory"] = EngineFactory.WhyUnavailable(TensorRtBackend.TensorRt, 0),
        };
        var warnings = new List<string>();
        using (var engine = EngineFactory.Create(model, TensorRtBackend.Auto, null, 0, Options, warnings.Add, _ => { }))
            answers["auto engine"] = engine.Description;
        answers["auto warning"] = string.Join("\n", warnings);
        try
        {
            EngineFactory.Create(model, TensorRtBackend.TensorRt, fallbackToCpu: false, 0, Options, _ => { }, _ => { }).Dispose();
            answers["explicit error"] = null;
        }
        catch (InvalidOperationException e)
        {
            answers["explicit error"] = e.Message;
        }
        Console.WriteLine(JsonSerializer.Serialize(answers));
        return 0;
    });

    [Fact]
    public void On_a_machine_without_tensorrt_auto_says_what_to_install_and_runs_on_the_cpu()
    {
        if (TensorRtAvailability.SupportedMajors.Any(m => NativeLibraries.TryProbe(NativeLibraries.NvInferFileName(m), out _)))
            Assert.Skip("TensorRT is installed here; this test is about machines without it.");

        var (exitCode, output, error) = ChildProcess.Run(AutoChainMode, TestModels.MlpPath, TimeSpan.FromMinutes(2),
            removeVariables: [NativeLibraries.ShimPathVariable]);

        Assert.True(exitCode == 0, $"child failed ({exitCode}): {output}\n{error}");
        var answers = JsonSerializer.Deserialize<Dictionary<string, string?>>(output.Trim())!;
        foreach (var key in new[] { "loader", "factory", "auto warning", "explicit error" })
        {
            var text = answers[key];
            Assert.NotNull(text);
            Assert.Contains(NativeLibraries.NvInferFileName(10), text);
            Assert.Contains(NativeLibraries.NvInferFileName(11), text);
            Assert.Contains("Install TensorRT 10 or 11", text);
            Assert.Contains(ShimLibrary.ShimFileName, text);
            Assert.Contains(NativeLibraries.ShimPathVariable, text);
        }
        Assert.Equal("ONNX Runtime CPU on the CPU", answers["auto engine"]);
        Assert.Contains("[TensorRt]", answers["auto warning"]);
        Assert.Contains("[TensorRt]", answers["explicit error"]);
        Assert.Contains("FallbackToCpu", answers["explicit error"]);
    }
}
