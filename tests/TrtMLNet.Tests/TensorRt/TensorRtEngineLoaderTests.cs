using System.Collections.Concurrent;
using System.Text;
using TrtMLNet.Backends;
using TrtMLNet.Onnx;
using TrtMLNet.Backends.TensorRt;
using TrtMLNet.Device;
using TrtMLNet.Native.TensorRt;
using TrtMLNet.Tests.Models;

namespace TrtMLNet.Tests.TensorRt;

/// <summary>
/// TensorRtEngineLoader against the fake shim: prebuilt plan files and their errors, builds with the
/// options mapped, the engine cache and the timing cache file around them, and TensorRT 11's refusal
/// of precision flags.
/// </summary>
[Collection(TensorRtShimCollection.Name)]
public sealed class TensorRtEngineLoaderTests : IDisposable
{
    /// <summary>What the fake's builder "parses": the same IO as <see cref="OnnxTwin"/>.</summary>
    private const string FakeOnnx = """
        FAKEONNX
        input input_ids 7 [-1,128]
        input attention_mask 7 [-1,128]
        output logits 1 [-1,128,2]
        output pooled 1 [-1,16]
        """;

    private readonly TempFolder _folder = new();
    private readonly FakeTensorRtDevice _device = new();
    private readonly ConcurrentQueue<string> _warnings = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>A real ONNX model with the fake's IO, for what the loader reads from the ONNX side (its inputs).</summary>
    private static OnnxModelFile OnnxTwin(string idsName = "input_ids") => OnnxModelReader.Read(new OnnxModelBuilder()
        .Input(idsName, OnnxType.Int64, "N", 128)
        .Input("attention_mask", OnnxType.Int64, "N", 128)
        .Output("logits", OnnxType.Float, "N", 128, 2)
        .Output("pooled", OnnxType.Float, "N", 16)
        .Build(), "the ONNX twin");

    private static ModelSource Model(string fakeOnnx = FakeOnnx, string idsName = "input_ids") =>
        new(Encoding.UTF8.GetBytes(fakeOnnx.ReplaceLineEndings("\n")), OnnxTwin(idsName), "'/models/bert.onnx'");

    private EngineOptions Options(Func<EngineOptions, EngineOptions>? change = null)
    {
        var options = new EngineOptions
        {
            Backend = TensorRtBackend.TensorRt,
            EngineCacheDirectory = Path.Combine(_folder.Path, "engines"),
            Build = new EngineBuildOptions { Profiles = [TestProfiles.Bert(1, 32, 32)] },
        };
        return change?.Invoke(options) ?? options;
    }

    private TensorRtEngine Create(EngineOptions options, ModelSource? model = null, ShimInfo? shim = null, ComputeDevice? device = null) =>
        TensorRtEngineLoader.Create(model ?? Model(), options, shim ?? ShimLibrary.Info, device ?? _device, _warnings.Enqueue);

    private static string[] Builds() => FakeShim.Calls().Where(c => c.StartsWith("build_engine", StringComparison.Ordinal)).ToArray();

    private string[] CacheEntries() =>
        Directory.Exists(Path.Combine(_folder.Path, "engines"))
            ? Directory.GetFiles(Path.Combine(_folder.Path, "engines"), "*" + EngineCache.EntryExtension)
            : [];

    // ---- prebuilt plans ----

    [Fact]
    public void A_missing_plan_file_is_an_error_naming_it()
    {
        FakeShim.Require();
        var path = Path.Combine(_folder.Path, "nowhere", "bert.plan");

        var error = Assert.Throws<FileNotFoundException>(() => Create(Options(o => o with { EngineFile = path })));

        Assert.Contains($"'{path}'", error.Message);
        Assert.Contains("EngineFile", error.Message);
        Assert.Equal(path, error.FileName);
        Assert.Empty(Builds());
    }

    [Fact]
    public void An_unreadable_plan_file_is_an_error_naming_it()
    {
        FakeShim.Require();
        var path = Directory.CreateDirectory(Path.Combine(_folder.Path, "a-folder.plan")).FullName;

        var error = Assert.Throws<IOException>(() => Create(Options(o => o with { EngineFile = path })));

        Assert.Contains($"'{path}'", error.Message);
        Assert.Contains("cannot be read", error.Message);
    }

    [Fact]
    public void A_plan_tensorrt_rejects_is_an_error_with_its_words_and_why_plans_are_refused()
    {
        FakeShim.Require();
        var path = Path.Combine(_folder.Path, "bert.plan");
        File.WriteAllText(path, "a plan from TensorRT 8.6 on an A100");

        var error = Assert.Throws<TensorRtException>(() => Create(Options(o => o with { EngineFile = path })));

        Assert.Equal(TensorRtErrorCode.TensorRt, error.ErrorCode);
        Assert.Contains("Magic tag does not match", error.NativeMessage);
        Assert.Contains(path, error.Message);
        Assert.Contains("only into the TensorRT version and the GPU model it was built for", error.Message);
        Assert.Contains("TensorRT 10.16.0.72 on GPU 0 (NVIDIA Fake GPU 80GB, compute capability 9.0)", error.Message);
        Assert.Contains("Magic tag does not match", error.Message);
    }

    [Fact]
    public void A_prebuilt_plan_loads_directly_without_building_or_caching()
    {
        FakeShim.Require();
        var path = Path.Combine(_folder.Path, "bert.plan");
        File.WriteAllBytes(path, TensorRtEngineTests.Bytes(TensorRtEngineTests.BertPlan));

        using var engine = Create(Options(o => o with { EngineFile = Path.GetRelativePath(Environment.CurrentDirectory, path) }));

        Assert.Equal(2, engine.Profiles.Count);
        Assert.Equal(["logits", "pooled"], engine.Outputs.Select(o => o.Name));
        Assert.Empty(Builds());
        Assert.Empty(CacheEntries());
    }

    [Fact]
    public void A_plan_of_another_model_is_refused_saying_how_it_differs()
    {
        FakeShim.Require();
        var path = Path.Combine(_folder.Path, "bert.plan");
        File.WriteAllBytes(path, TensorRtEngineTests.Bytes(TensorRtEngineTests.BertPlan));

        var error = Assert.Throws<InvalidOperationException>(() => Create(Options(o => o with { EngineFile = path }), Model(idsName: "token_ids")));

        Assert.Contains(path, error.Message);
        Assert.Contains("no input 'token_ids'", error.Message);
        Assert.Contains("an input 'input_ids' the model does not", error.Message);
        Assert.Contains("engine_destroyed", FakeShim.Calls());
    }

    // ---- building, through the engine cache ----

    [Fact]
    public void Builds_with_the_options_mapped_and_caches_the_plan()
    {
        FakeShim.Require();
        var options = Options(o => o with
        {
            Build = o.Build with
            {
                Precision = TensorRtPrecision.Fp16,
                AllowTf32 = false,
                WorkspaceBytes = 1L << 30,
                EnableTactics = TensorRtTacticSources.JitConvolutions | TensorRtTacticSources.Cublas,
                DisableTactics = TensorRtTacticSources.EdgeMaskConvolutions,
                BuilderOptimizationLevel = 4,
                MaxAuxStreams = 0,
            },
        });

        using (var engine = Create(options))
        {
            Assert.Equal(["input_ids", "attention_mask"], engine.Inputs.Select(i => i.Name));
            Assert.Equal([32L, 128], engine.Profiles[0].Shapes["input_ids"].Max);
            Assert.Equal(256L * 32 * 128 * 2, engine.ScratchBytes(0));
        }
        var build = Assert.Single(Builds());
        Assert.Equal(
            $"build_engine {Encoding.UTF8.GetByteCount(FakeOnnx.ReplaceLineEndings("\n"))} model_path=null precision=1 allow_tf32=0 optimization_level=4 " +
            "workspace=1073741824 tactics_enable=0x11 tactics_disable=0x8 max_aux_streams=0 profiles=1 timing_cache=null timing_cache_out=0",
            build);
        Assert.Contains("build_profile 0 input_ids [1,128] [32,128] [32,128]", FakeShim.Calls());
        Assert.Single(CacheEntries());

        // The second time comes from the cache: no build.
        using (var again = Create(options))
            Assert.Equal(2, again.Inputs.Count);
        Assert.Single(Builds());
        Assert.Empty(_warnings);
    }

    [Fact]
    public void Defaults_leave_tensorrt_its_own_choices()
    {
        FakeShim.Require();

        using var engine = Create(Options());

        Assert.Contains("precision=0 allow_tf32=1 optimization_level=-1 workspace=0 tactics_enable=0x0 tactics_disable=0x0 max_aux_streams=-1 profiles=1",
            Assert.Single(Builds()));
    }

    [Fact]
    public void Another_option_another_gpu_or_another_tensorrt_build_another_engine()
    {
        FakeShim.Require();
        Create(Options()).Dispose();
        Create(Options(o => o with { Build = o.Build with { MaxAuxStreams = 1 } })).Dispose();
        Create(Options(), device: new FakeTensorRtDevice("NVIDIA Fake GPU 40GB")).Dispose();
        Create(Options(), shim: ShimLibrary.Info with { LoadedTensorRt = new Version(10, 16, 1, 3) }).Dispose();
        Create(Options()).Dispose();

        Assert.Equal(4, Builds().Length);
        Assert.Equal(4, CacheEntries().Length);
    }

    [Fact]
    public void The_build_runs_on_the_devices_context()
    {
        FakeShim.Require();
        var device = new FakeTensorRtDevice();

        Create(Options(), device: device).Dispose();

        // Once for the build, once for the runtime that loads the plan.
        Assert.True(device.MakeCurrentCalls >= 2, $"MakeCurrent was called {device.MakeCurrentCalls} time(s)");
    }

    [Fact]
    public void Fp16_on_tensorrt_11_builds_the_rewritten_model_with_no_precision_flag()
    {
        FakeShim.Require();
        FakeShim.SetVersions(abi: 1, 11, 1, 0, 11, 1, 0, 106);
        var shim = ShimLibrary.Probe(out _)!;
        var onnx = TestModels.Mlp().Build();
        var model = ModelSource.FromBytes(onnx, "'/models/mlp.onnx'");
        var rewritten = PrecisionRewrite.Rewrite(onnx, new PrecisionRewriteOptions { Target = ReducedPrecision.Float16 }, out _);
        var options = Options(o => o with
        {
            Build = new EngineBuildOptions { Precision = TensorRtPrecision.Fp16, Profiles = [TestProfiles.Of(("features", [1, 20], [8, 20], [8, 20]))] },
        });

        // The fake's parser reads only FAKEONNX, so the build itself fails; what reached it is the point.
        Assert.Throws<TensorRtException>(() => Create(options, model, shim: shim));

        var build = Assert.Single(Builds());
        Assert.StartsWith($"build_engine {rewritten.Length} ", build, StringComparison.Ordinal);
        Assert.Contains("precision=0", build);
        Assert.Single(Directory.GetFiles(Path.Combine(_folder.Path, "engines", "reduced-precision"), "*.onnx"));
    }

    [Fact]
    public void Fp32_on_tensorrt_11_builds()
    {
        FakeShim.Require();
        FakeShim.SetVersions(abi: 1, 11, 1, 0, 11, 1, 0, 106);
        var shim = ShimLibrary.Probe(out _)!;

        using var engine = Create(Options(), shim: shim);

        Assert.Contains("precision=0", Assert.Single(Builds()));
        Assert.StartsWith("TensorRT 11.1 on GPU 0", engine.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void A_model_the_parser_rejects_names_the_model()
    {
        FakeShim.Require();

        var error = Assert.Throws<TensorRtException>(() => Create(Options(), Model("ir_version: 9, not a FAKEONNX model")));

        Assert.Equal(TensorRtErrorCode.Parser, error.ErrorCode);
        Assert.Contains("'/models/bert.onnx'", error.Message);
        Assert.Contains("ONNX parser rejected the model", error.NativeMessage);
        Assert.Empty(CacheEntries());
    }

    [Fact]
    public void A_corrupted_cache_entry_is_reported_and_rebuilt()
    {
        FakeShim.Require();
        Create(Options()).Dispose();
        var entry = Assert.Single(CacheEntries());
        var bytes = File.ReadAllBytes(entry);
        bytes[^5] ^= 0x20;
        File.WriteAllBytes(entry, bytes);

        using var engine = Create(Options());

        Assert.Equal(2, Builds().Length);
        var warning = Assert.Single(_warnings);
        Assert.Contains(entry, warning);
        Assert.Contains("corrupted", warning);
    }

    [Fact]
    public void A_whole_cache_entry_tensorrt_refuses_is_reported_and_rebuilt_once()
    {
        FakeShim.Require();
        var options = Options();
        var key = EngineCacheKey.For(Model().OnnxBytes, options.Build, ShimLibrary.Info.LoadedTensorRt, _device.ModelName, _device.ComputeCapability!,
            ShimLibrary.Info.AbiVersion);
        // Checksums fine, content not a plan this TensorRT takes (as after a TensorRT swapped in place).
        new EngineCache(options.EngineCacheDirectory!, _ => { }).Write(key, Encoding.UTF8.GetBytes("PLAN OF ANOTHER TENSORRT BUILD"));

        using var engine = Create(options);

        Assert.Single(Builds());
        var warning = Assert.Single(_warnings);
        Assert.Contains("refused to load it", warning);
        Assert.Contains("Magic tag does not match", warning);
        Assert.StartsWith("FAKEPLAN", Encoding.UTF8.GetString(new EngineCache(options.EngineCacheDirectory!, _ => { }).TryRead(key, out _)!), StringComparison.Ordinal);
    }

    // ---- the timing cache file ----

    [Fact]
    public void The_timing_cache_file_is_started_read_and_written_back()
    {
        FakeShim.Require();
        var timing = Path.Combine(_folder.Path, "caches", "bert.timing");
        var modelBytes = Encoding.UTF8.GetByteCount(FakeOnnx.ReplaceLineEndings("\n"));

        Create(Options(o => o with { Build = o.Build with { TimingCacheFile = timing } })).Dispose();
        Assert.EndsWith("timing_cache=null timing_cache_out=1", Builds()[0], StringComparison.Ordinal);
        Assert.Equal($"FAKECACHE\nbuild {modelBytes}\n", File.ReadAllText(timing));

        // Another engine (another option): the build starts from the file and adds to it.
        Create(Options(o => o with { Build = o.Build with { TimingCacheFile = timing, MaxAuxStreams = 0 } })).Dispose();
        Assert.EndsWith($"timing_cache={Encoding.UTF8.GetByteCount($"FAKECACHE\nbuild {modelBytes}\n")} timing_cache_out=1", Builds()[1], StringComparison.Ordinal);
        Assert.Equal($"FAKECACHE\nbuild {modelBytes}\nbuild {modelBytes}\n", File.ReadAllText(timing));
        Assert.Empty(_warnings);
        Assert.DoesNotContain(Directory.GetFiles(Path.GetDirectoryName(timing)!), f => f.EndsWith(".tmp", StringComparison.Ordinal));
    }

    [Fact]
    public void A_timing_cache_tensorrt_rejects_costs_a_warning_and_is_replaced()
    {
        FakeShim.Require();
        var timing = Path.Combine(_folder.Path, "bert.timing");
        File.WriteAllText(timing, "TIMING CACHE OF TENSORRT 10.3");

        using var engine = Create(Options(o => o with { Build = o.Build with { TimingCacheFile = timing } }));

        var builds = Builds();
        Assert.Equal(2, builds.Length);
        Assert.EndsWith("timing_cache=29 timing_cache_out=1", builds[0], StringComparison.Ordinal);
        Assert.EndsWith("timing_cache=null timing_cache_out=1", builds[1], StringComparison.Ordinal);
        var warning = Assert.Single(_warnings);
        Assert.Contains(timing, warning);
        Assert.Contains("rejected the timing cache", warning);
        Assert.StartsWith("FAKECACHE\n", File.ReadAllText(timing), StringComparison.Ordinal);
        Assert.Single(CacheEntries());
    }

    [Fact]
    public void A_cached_engine_leaves_the_timing_cache_alone()
    {
        FakeShim.Require();
        var timing = Path.Combine(_folder.Path, "bert.timing");
        Create(Options(o => o with { Build = o.Build with { TimingCacheFile = timing } })).Dispose();
        var written = File.ReadAllText(timing);

        Create(Options(o => o with { Build = o.Build with { TimingCacheFile = timing } })).Dispose();

        Assert.Single(Builds());
        Assert.Equal(written, File.ReadAllText(timing));
    }
}
