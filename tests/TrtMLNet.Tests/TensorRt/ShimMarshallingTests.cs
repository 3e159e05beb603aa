using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.InteropServices.Marshalling;
using System.Text;
using TrtMLNet.Native;
using TrtMLNet.Native.TensorRt;

namespace TrtMLNet.Tests.TensorRt;

/// <summary>
/// Every test that touches the shim: the fake is loaded under the shim's name for the whole process
/// and keeps global state (recorded calls, armed failures, versions), so these must not run in parallel.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TensorRtShimCollection
{
    public const string Name = "TensorRtShim";
}

/// <summary>
/// The P/Invoke layer against the fake shim (tests/TrtMLNet.Tests/native/FakeShim): what crosses the C
/// ABI (strings, dims, enums, structs, pointers, options), and how each native failure reaches .NET.
/// </summary>
[Collection(TensorRtShimCollection.Name)]
public sealed class ShimMarshallingTests
{
    private const string BertPlan = """
        FAKEPLAN
        input input_ids 7 [-1,128]
        input attention_mask 7 [-1,128]
        output logits 1 [-1,128,2]
        profile 0 input_ids [1,128] [8,128] [32,128]
        profile 0 attention_mask [1,128] [8,128] [32,128]
        profile 1 input_ids [64,128] [64,128] [64,128]
        profile 1 attention_mask [64,128] [64,128] [64,128]
        scratch 0 1048576
        scratch 1 4194304
        weights 4000 4096
        persistent 512
        """;

    private const string BertModel = """
        FAKEONNX
        input input_ids 7 [-1,128]
        input attention_mask 7 [-1,128]
        output logits 1 [-1,128,2]
        """;

    // ---- loading and versions ----

    [Fact]
    public void Loads_the_fake_and_reports_its_versions()
    {
        FakeShim.Require();

        Assert.True(ShimLibrary.TryLoad(out var reason), reason);
        var info = ShimLibrary.Info;
        Assert.Equal(ShimLibrary.ExpectedAbiVersion, info.AbiVersion);
        Assert.Equal(new Version(10, 16, 0), info.CompiledTensorRt);
        Assert.Equal(new Version(10, 16, 0, 72), info.LoadedTensorRt);
        Assert.Equal(ShimCapabilities.WeakTyping | ShimCapabilities.EngineWeightsStat, info.Capabilities);
        Assert.True(info.SupportsPrecisionFlags);
    }

    [Fact]
    public void Refuses_a_shim_of_another_abi_version_naming_both()
    {
        FakeShim.Require();
        FakeShim.SetVersions(abi: 2, 10, 16, 0, 10, 16, 0, 72);

        var info = ShimLibrary.Probe(out var reason);

        Assert.Null(info);
        Assert.NotNull(reason);
        Assert.Contains("ABI version 2", reason);
        Assert.Contains($"ABI version {ShimLibrary.ExpectedAbiVersion}", reason);
        Assert.Contains(NativeLibraries.ShimPath!, reason);
    }

    [Fact]
    public void Reports_compiled_and_loaded_versions_apart()
    {
        FakeShim.Require();
        FakeShim.SetVersions(abi: 1, 11, 1, 0, 11, 1, 2, 106);

        var info = ShimLibrary.Probe(out var reason);

        Assert.NotNull(info);
        Assert.Null(reason);
        Assert.Equal(new Version(11, 1, 0), info.CompiledTensorRt);
        Assert.Equal(new Version(11, 1, 2, 106), info.LoadedTensorRt);
        Assert.Equal(ShimCapabilities.EngineWeightsStat, info.Capabilities);
        Assert.False(info.SupportsPrecisionFlags);
    }

    // ---- layouts ----

    [Fact]
    public void Struct_layouts_match_the_header()
    {
        // Sizes and offsets the shim static_asserts on its side (conversions.cpp).
        Assert.Equal(72, Unsafe.SizeOf<ShimDims>());
        Assert.Equal(72, Marshal.SizeOf<ShimDims>());
        Assert.Equal(8, Marshal.OffsetOf<ShimDims>(nameof(ShimDims.D)).ToInt32());

        Assert.Equal(96, Unsafe.SizeOf<ShimTensorDesc>());
        Assert.Equal(8, Marshal.OffsetOf<ShimTensorDesc>(nameof(ShimTensorDesc.IoMode)).ToInt32());
        Assert.Equal(24, Marshal.OffsetOf<ShimTensorDesc>(nameof(ShimTensorDesc.Shape)).ToInt32());

        Assert.Equal(224, Unsafe.SizeOf<ShimProfileShape>());
        Assert.Equal(152, Marshal.OffsetOf<ShimProfileShape>(nameof(ShimProfileShape.Max)).ToInt32());
        Assert.Equal(16, Unsafe.SizeOf<ShimProfile>());

        Assert.Equal(64, Unsafe.SizeOf<ShimBuildOptions>());
        Assert.Equal(16, Marshal.OffsetOf<ShimBuildOptions>(nameof(ShimBuildOptions.WorkspaceBytes)).ToInt32());
        Assert.Equal(40, Marshal.OffsetOf<ShimBuildOptions>(nameof(ShimBuildOptions.Profiles)).ToInt32());
        Assert.Equal(56, Marshal.OffsetOf<ShimBuildOptions>(nameof(ShimBuildOptions.TimingCacheSize)).ToInt32());
    }

    // ---- strings ----

    [Theory]
    [InlineData("input_ids")]
    [InlineData("入力_ids")]
    [InlineData("émbeddings·x")]
    [InlineData("tensor😀")]
    public void Tensor_names_cross_as_utf8(string name)
    {
        FakeShim.Require();
        using var runtime = ShimRuntimeHandle.Create();
        using var engine = Deserialize(runtime, $"""
            FAKEPLAN
            input {name} 1 [-1,4]
            output out 1 [-1,4]
            profile 0 {name} [1,4] [2,4] [8,4]
            """);

        Assert.Equal(name, engine.IoTensors()[0].Name);
        Assert.Equal([8L, 4], engine.ProfileShape(name, 0, ShimProfileSelector.Max));

        using var context = engine.CreateContext(0, IntPtr.Zero, out _);
        context.SetInputShape(name, [2, 4]);
        Assert.Equal([2L, 4], context.TensorShape(name));
        Assert.Contains($"context_set_input_shape {name} [2,4]", FakeShim.Calls());

        var unknown = Assert.Throws<TensorRtException>(() => context.SetTensorAddress(name + "ß", 0x1000));
        Assert.Equal(TensorRtErrorCode.InvalidArgument, unknown.ErrorCode);
        Assert.Contains($"'{name}ß'", unknown.NativeMessage);
        Assert.Contains($"'{name}'", unknown.NativeMessage); // the names the engine does have
    }

    // ---- dims ----

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void Dims_of_every_rank_round_trip(int rank)
    {
        FakeShim.Require();
        // Dimension 0 is dynamic, the others fixed at 2, 3, 4, ...
        var engineShape = Enumerable.Range(0, rank).Select(i => i == 0 ? -1L : i + 1).ToArray();
        var setShape = engineShape.Select(d => d == -1 ? 5L : d).ToArray();
        var text = $"[{string.Join(",", engineShape)}]";
        using var runtime = ShimRuntimeHandle.Create();
        using var engine = Deserialize(runtime, $"""
            FAKEPLAN
            input x 1 {text}
            output y 1 {text}
            """);

        var tensors = engine.IoTensors();
        Assert.Equal(engineShape, tensors[0].Shape);
        Assert.Equal(engineShape, tensors[1].Shape);
        Assert.Equal(rank > 0, tensors[0].IsDynamic);

        using var context = engine.CreateContext(0, IntPtr.Zero, out _);
        context.SetInputShape("x", setShape);
        Assert.Equal(setShape, context.TensorShape("x"));
        Assert.Equal(setShape, context.TensorShape("y")); // -1 follows the first input's dimension
        Assert.Contains($"context_set_input_shape x [{string.Join(",", setShape)}]", FakeShim.Calls());
    }

    [Fact]
    public void A_rank_above_eight_is_refused_before_the_call()
    {
        FakeShim.Require();
        using var runtime = ShimRuntimeHandle.Create();
        using var engine = Deserialize(runtime, BertPlan);
        using var context = engine.CreateContext(0, IntPtr.Zero, out _);

        var error = Assert.Throws<ArgumentException>(() => context.SetInputShape("input_ids", new long[9]));

        Assert.Contains("input_ids", error.Message);
        Assert.DoesNotContain(FakeShim.Calls(), call => call.StartsWith("context_set_input_shape", StringComparison.Ordinal));
    }

    [Fact]
    public void A_rank_the_engine_does_not_have_is_an_invalid_argument()
    {
        FakeShim.Require();
        using var runtime = ShimRuntimeHandle.Create();
        using var engine = Deserialize(runtime, BertPlan);
        using var context = engine.CreateContext(0, IntPtr.Zero, out _);

        var error = Assert.Throws<TensorRtException>(() => context.SetInputShape("input_ids", [2, 128, 1]));

        Assert.Equal(TensorRtErrorCode.InvalidArgument, error.ErrorCode);
        Assert.Contains("'input_ids'", error.NativeMessage);
        Assert.Contains("[2,128,1]", error.Message);
    }

    // ---- enums ----

    [Fact]
    public void Data_types_and_io_modes_keep_the_shims_numbers()
    {
        FakeShim.Require();
        // trtmlnet_shim.h's trts_data_type, written out rather than derived from the enum under test.
        (int Value, ShimDataType Type)[] types =
        [
            (0, ShimDataType.Unknown), (1, ShimDataType.Float32), (2, ShimDataType.Float16), (3, ShimDataType.BFloat16),
            (4, ShimDataType.Int8), (5, ShimDataType.UInt8), (6, ShimDataType.Int32), (7, ShimDataType.Int64),
            (8, ShimDataType.Bool), (9, ShimDataType.Fp8), (10, ShimDataType.Int4), (11, ShimDataType.Fp4),
        ];
        var plan = new StringBuilder("FAKEPLAN\n");
        foreach (var (value, _) in types)
            plan.Append($"{(value % 2 == 0 ? "input" : "output")} t{value} {value} [1]{(value == 6 ? " host" : "")}{(value == 9 ? " nonlinear" : "")}\n");
        using var runtime = ShimRuntimeHandle.Create();
        using var engine = Deserialize(runtime, plan.ToString());

        var tensors = engine.IoTensors();

        Assert.Equal(types.Length, tensors.Count);
        foreach (var (value, type) in types)
        {
            var tensor = tensors[value];
            Assert.Equal($"t{value}", tensor.Name);
            Assert.Equal(type, tensor.DataType);
            Assert.Equal(value % 2 == 0 ? ShimIoMode.Input : ShimIoMode.Output, tensor.IoMode);
            Assert.Equal(value != 6, tensor.OnDevice);
            Assert.Equal(value != 9, tensor.IsLinear);
        }
        Assert.Equal(1, (int)ShimIoMode.Input);
        Assert.Equal(2, (int)ShimIoMode.Output);
    }

    [Fact]
    public void Error_codes_keep_the_shims_numbers()
    {
        // trtmlnet_shim.h's trts_status_code: the P/Invokes return the public enum as the shim's numbers.
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7], Enum.GetValues<TensorRtErrorCode>().Select(code => (int)code));
        foreach (var code in Enum.GetValues<TensorRtErrorCode>())
            Assert.Equal(code.ToString(), ((TensorRtErrorCode)(int)code).ToString());
    }

    // ---- failures ----

    /// <summary>
    /// Each function that can fail, the status injected (a TensorRtErrorCode; theory arguments must be public
    /// types), and words the .NET message must add.
    /// </summary>
    public static TheoryData<string, int, string> InjectedFailures => new()
    {
        { "trts_runtime_create", (int)TensorRtErrorCode.Cuda, "runtime" },
        { "trts_engine_deserialize", (int)TensorRtErrorCode.TensorRt, "plan" },
        { "trts_engine_io_tensor", (int)TensorRtErrorCode.Internal, "IO tensor 0" },
        { "trts_engine_profile_shape", (int)TensorRtErrorCode.InvalidArgument, "'input_ids'" },
        { "trts_engine_scratch_size", (int)TensorRtErrorCode.TensorRt, "profile 1" },
        { "trts_engine_weights_size", (int)TensorRtErrorCode.Internal, "weights" },
        { "trts_context_create", (int)TensorRtErrorCode.OutOfMemory, "profile 1" },
        { "trts_context_set_scratch", (int)TensorRtErrorCode.TensorRt, "4096 bytes" },
        { "trts_context_set_input_shape", (int)TensorRtErrorCode.TensorRt, "'attention_mask'" },
        { "trts_context_scratch_size_for_shapes", (int)TensorRtErrorCode.TensorRt, "scratch size" },
        { "trts_context_tensor_shape", (int)TensorRtErrorCode.InvalidArgument, "'logits'" },
        { "trts_context_set_tensor_address", (int)TensorRtErrorCode.InvalidArgument, "'logits'" },
        { "trts_context_enqueue", (int)TensorRtErrorCode.Cuda, "stream 0x1234" },
        { "trts_build_engine", (int)TensorRtErrorCode.Unsupported, "model.onnx" },
        { "trts_engine_io_count", (int)TensorRtErrorCode.Internal, "IO tensors" },
        { "trts_engine_profile_count", (int)TensorRtErrorCode.Internal, "profiles" },
        { "trts_runtime_allocated_bytes", (int)TensorRtErrorCode.Internal, "allocated bytes" },
    };

    [Theory]
    [MemberData(nameof(InjectedFailures))]
    public void Every_native_failure_surfaces_its_status_and_message(string function, int injectedStatus, string context)
    {
        var status = (TensorRtErrorCode)injectedStatus;
        FakeShim.Require();
        using var runtime = ShimRuntimeHandle.Create();
        using var engine = Deserialize(runtime, BertPlan);
        using var shimContext = engine.CreateContext(0, IntPtr.Zero, out _);
        var message = $"injected into {function}: ünïcode survives";
        FakeShim.FailNext(function, status, message);

        var error = Assert.Throws<TensorRtException>(() => Call(function, runtime, engine, shimContext));

        // Functions answering a value instead of a status (-1 on failure) cannot say which status.
        var valueFunction = function is "trts_engine_io_count" or "trts_engine_profile_count" or "trts_runtime_allocated_bytes";
        Assert.Equal(valueFunction ? TensorRtErrorCode.Internal : (TensorRtErrorCode)(int)status, error.ErrorCode);
        Assert.Equal(message, error.NativeMessage);
        Assert.Contains(message, error.Message);
        Assert.Contains(context, error.Message);
    }

    private static void Call(string function, ShimRuntimeHandle runtime, ShimEngineHandle engine, ShimContextHandle context)
    {
        switch (function)
        {
            case "trts_runtime_create": ShimRuntimeHandle.Create().Dispose(); break;
            case "trts_engine_deserialize": Deserialize(runtime, BertPlan).Dispose(); break;
            case "trts_engine_io_tensor": engine.IoTensors(); break;
            case "trts_engine_profile_shape": engine.ProfileShape("input_ids", 0, ShimProfileSelector.Opt); break;
            case "trts_engine_scratch_size": engine.ScratchSize(1); break;
            case "trts_engine_weights_size": engine.WeightsSize(); break;
            case "trts_context_create": engine.CreateContext(1, IntPtr.Zero, out _).Dispose(); break;
            case "trts_context_set_scratch": context.SetScratch(0x2000, 4096); break;
            case "trts_context_set_input_shape": context.SetInputShape("attention_mask", [2, 128]); break;
            case "trts_context_scratch_size_for_shapes": context.ScratchSizeForShapes(); break;
            case "trts_context_tensor_shape": context.TensorShape("logits"); break;
            case "trts_context_set_tensor_address": context.SetTensorAddress("logits", 0x1000); break;
            case "trts_context_enqueue": context.Enqueue(0x1234); break;
            case "trts_build_engine": Build(BertModel, new EngineBuildOptions(), modelPath: "/models/model.onnx").Dispose(); break;
            case "trts_engine_io_count": engine.IoTensors(); break;
            case "trts_engine_profile_count": _ = engine.ProfileCount; break;
            case "trts_runtime_allocated_bytes": _ = runtime.AllocatedBytes; break;
            default: throw new ArgumentOutOfRangeException(nameof(function), function, null);
        }
    }

    [Fact]
    public void A_foreign_plan_fails_with_tensorrts_words_and_logs_them()
    {
        FakeShim.Require();
        using var log = new LogRecorder();
        using var runtime = ShimRuntimeHandle.Create();

        var error = Assert.Throws<TensorRtException>(() => runtime.DeserializeEngine("not a plan"u8));

        Assert.Equal(TensorRtErrorCode.TensorRt, error.ErrorCode);
        Assert.Contains("Magic tag does not match", error.NativeMessage);
        Assert.Contains("10 bytes", error.Message);
        Assert.Contains(log.Messages, m => m.Severity == ShimLogSeverity.Error && m.Text.Contains("magicTag", StringComparison.Ordinal));
    }

    [Fact]
    public void Refusals_name_the_tensor_or_profile()
    {
        FakeShim.Require();
        using var runtime = ShimRuntimeHandle.Create();
        using var engine = Deserialize(runtime, BertPlan);

        var noProfile = Assert.Throws<TensorRtException>(() => engine.CreateContext(5, IntPtr.Zero, out _));
        Assert.Equal(TensorRtErrorCode.InvalidArgument, noProfile.ErrorCode);
        Assert.Contains("profile 5", noProfile.NativeMessage);

        var output = Assert.Throws<TensorRtException>(() => engine.ProfileShape("logits", 0, ShimProfileSelector.Min));
        Assert.Equal(TensorRtErrorCode.InvalidArgument, output.ErrorCode);
        Assert.Contains("'logits' is not an input", output.NativeMessage);

        using var context = engine.CreateContext(0, IntPtr.Zero, out _);
        var outside = Assert.Throws<TensorRtException>(() => context.SetInputShape("input_ids", [64, 128]));
        Assert.Equal(TensorRtErrorCode.TensorRt, outside.ErrorCode);
        Assert.Contains("does not satisfy any optimization profiles", outside.NativeMessage);
        Assert.Contains("'input_ids'", outside.Message);

        context.SetInputShape("input_ids", [2, 128]);
        var unset = Assert.Throws<TensorRtException>(() => context.Enqueue(IntPtr.Zero));
        Assert.Equal(TensorRtErrorCode.TensorRt, unset.ErrorCode);
        Assert.Contains("attention_mask", unset.NativeMessage);
    }

    [Fact]
    public void The_last_error_belongs_to_the_thread_that_failed()
    {
        FakeShim.Require();
        using var runtime = ShimRuntimeHandle.Create();
        FakeShim.FailNext("trts_engine_deserialize", TensorRtErrorCode.TensorRt, "only on this thread");

        Assert.Throws<TensorRtException>(() => Deserialize(runtime, BertPlan));
        Assert.Equal("only on this thread", ShimStatusCheck.LastError());

        string? otherThread = null;
        var thread = new Thread(() => otherThread = ShimStatusCheck.LastError());
        thread.Start();
        thread.Join();
        Assert.Equal("", otherThread);

        // The next call on this thread clears it, as the header promises.
        Deserialize(runtime, BertPlan).Dispose();
        Assert.Equal("", ShimStatusCheck.LastError());
    }

    // ---- logging ----

    [Fact]
    public void Log_messages_from_a_foreign_native_thread_reach_dotnet()
    {
        FakeShim.Require();
        using var log = new LogRecorder();

        FakeShim.EmitLog(ShimLogSeverity.Warning, "from a native thread ✓");

        var message = Assert.Single(log.Messages);
        Assert.Equal(ShimLogSeverity.Warning, message.Severity);
        Assert.Equal("from a native thread ✓", message.Text);
        Assert.NotEqual(Environment.CurrentManagedThreadId, message.ThreadId);
    }

    [Fact]
    public void Log_level_filters_in_the_shim()
    {
        FakeShim.Require();
        using var log = new LogRecorder();
        var before = ShimLibrary.LogLevel;
        try
        {
            ShimLibrary.LogLevel = ShimLogSeverity.Warning;
            FakeShim.EmitLog(ShimLogSeverity.Verbose, "dropped");
            FakeShim.EmitLog(ShimLogSeverity.Error, "kept");

            ShimLibrary.LogLevel = ShimLogSeverity.Verbose;
            FakeShim.EmitLog(ShimLogSeverity.Verbose, "now kept");
        }
        finally
        {
            ShimLibrary.LogLevel = before;
        }

        Assert.Equal(["kept", "now kept"], log.Messages.Select(m => m.Text));
    }

    [Fact]
    public void A_throwing_log_handler_does_not_reach_native_code()
    {
        FakeShim.Require();
        Action<ShimLogSeverity, string> throwing = (_, _) => throw new InvalidOperationException("handler bug");
        ShimLibrary.Log += throwing;
        try
        {
            FakeShim.EmitLog(ShimLogSeverity.Error, "anyone there?");
        }
        finally
        {
            ShimLibrary.Log -= throwing;
        }

        using var log = new LogRecorder();
        FakeShim.EmitLog(ShimLogSeverity.Error, "still working");
        Assert.Equal("still working", Assert.Single(log.Messages).Text);
    }

    // ---- builder ----

    [Fact]
    public void Build_options_and_profiles_cross_the_abi()
    {
        FakeShim.Require();
        var settings = new EngineBuildOptions
        {
            Precision = TensorRtPrecision.Fp16,
            AllowTf32 = false,
            BuilderOptimizationLevel = 5,
            WorkspaceBytes = 3L << 30,
            EnableTactics = TensorRtTacticSources.Cublas | TensorRtTacticSources.JitConvolutions,
            DisableTactics = TensorRtTacticSources.EdgeMaskConvolutions,
            MaxAuxStreams = 0,
            Profiles = [TestProfiles.Bert(1, 8, 32), TestProfiles.Bert(64, 64, 64)],
        };

        using var result = Build(BertModel, settings, modelPath: "/models/modèle.onnx", returnTimingCache: true,
            timingCache: Encoding.UTF8.GetBytes("FAKECACHE\nbuild 1\n"));

        var modelBytes = Encoding.UTF8.GetByteCount(BertModel);
        var calls = FakeShim.Calls();
        Assert.Contains(
            $"build_engine {modelBytes} model_path=/models/modèle.onnx precision=1 allow_tf32=0 optimization_level=5 "
            + $"workspace={3L << 30} tactics_enable=0x11 tactics_disable=0x8 max_aux_streams=0 profiles=2 timing_cache=18 timing_cache_out=1",
            calls);
        Assert.Contains("build_profile 0 input_ids [1,128] [8,128] [32,128]", calls);
        Assert.Contains("build_profile 0 attention_mask [1,128] [8,128] [32,128]", calls);
        Assert.Contains("build_profile 1 attention_mask [64,128] [64,128] [64,128]", calls);

        Assert.NotNull(result.TimingCache);
        Assert.Equal($"FAKECACHE\nbuild 1\nbuild {modelBytes}\n", Encoding.UTF8.GetString(result.TimingCache.ToArray()));

        // The plan is what the fake runtime loads: the profiles made the round trip.
        using var runtime = ShimRuntimeHandle.Create();
        using var engine = runtime.DeserializeEngine(result.Plan.ToArray());
        Assert.Equal(2, engine.ProfileCount);
        var (min, opt, max) = engine.ProfileShapes("attention_mask", 1);
        Assert.Equal([64L, 128], min);
        Assert.Equal([64L, 128], opt);
        Assert.Equal([64L, 128], max);
        Assert.Equal(256L * (32 * 128 * 2), engine.ScratchSize(0));
    }

    [Fact]
    public void Defaults_leave_every_choice_to_tensorrt()
    {
        FakeShim.Require();

        using var result = Build(BertModel, new EngineBuildOptions { Profiles = [TestProfiles.Bert(1, 1, 1)] });

        Assert.Contains(
            $"build_engine {Encoding.UTF8.GetByteCount(BertModel)} model_path=null precision=0 allow_tf32=1 optimization_level=-1 "
            + "workspace=0 tactics_enable=0x0 tactics_disable=0x0 max_aux_streams=-1 profiles=1 timing_cache=null timing_cache_out=0",
            FakeShim.Calls());
        Assert.Null(result.TimingCache);
    }

    [Theory]
    [InlineData(TensorRtPrecision.Fp16, TensorRtTacticSources.None)]
    [InlineData(TensorRtPrecision.Bf16, TensorRtTacticSources.None)]
    [InlineData(TensorRtPrecision.Fp32, TensorRtTacticSources.Cudnn)]
    public void Weak_typing_on_tensorrt_11_is_unsupported(TensorRtPrecision precision, TensorRtTacticSources tactics)
    {
        FakeShim.Require();
        FakeShim.SetVersions(abi: 1, 11, 1, 0, 11, 1, 0, 106);

        var error = Assert.Throws<TensorRtException>(() => Build(BertModel, new EngineBuildOptions
        {
            Precision = precision,
            EnableTactics = tactics,
            Profiles = [TestProfiles.Bert(1, 1, 1)],
        }).Dispose());

        Assert.Equal(TensorRtErrorCode.Unsupported, error.ErrorCode);
        Assert.Contains(precision == TensorRtPrecision.Fp32 ? "cuDNN" : "strongly typed", error.NativeMessage);
    }

    [Fact]
    public void A_model_the_parser_rejects_is_a_parser_error()
    {
        FakeShim.Require();
        using var log = new LogRecorder();

        var error = Assert.Throws<TensorRtException>(() => Build("ir_version: 9 (not a FAKEONNX model)", new EngineBuildOptions()).Dispose());

        Assert.Equal(TensorRtErrorCode.Parser, error.ErrorCode);
        Assert.Contains("ONNX parser rejected the model", error.NativeMessage);
        Assert.Contains(log.Messages, m => m.Severity == ShimLogSeverity.Error);
    }

    [Fact]
    public void A_dynamic_model_without_profiles_fails_as_tensorrt_says()
    {
        FakeShim.Require();

        var error = Assert.Throws<TensorRtException>(() => Build(BertModel, new EngineBuildOptions()).Dispose());

        Assert.Equal(TensorRtErrorCode.TensorRt, error.ErrorCode);
        Assert.Contains("no optimization profile has been defined", error.NativeMessage);
    }

    // ---- objects, memory and pointers ----

    [Fact]
    public void A_context_keeps_its_engine_and_runtime_alive()
    {
        FakeShim.Require();
        var runtime = ShimRuntimeHandle.Create();
        var engine = Deserialize(runtime, BertPlan);
        using var context = engine.CreateContext(0, IntPtr.Zero, out _);

        engine.Dispose();
        runtime.Dispose();

        Assert.Contains("engine_release", FakeShim.Calls());
        Assert.DoesNotContain("engine_destroyed", FakeShim.Calls());
        context.SetInputShape("input_ids", [2, 128]); // still backed by its engine

        context.Dispose();
        var calls = FakeShim.Calls();
        Assert.True(
            Array.IndexOf(calls, "context_destroyed") < Array.IndexOf(calls, "engine_destroyed"),
            "the context must go before its engine:\n" + string.Join("\n", calls));
    }

    [Fact]
    public void Memory_figures_cross_the_abi()
    {
        FakeShim.Require();
        using var runtime = ShimRuntimeHandle.Create();
        using var engine = Deserialize(runtime, BertPlan);
        Assert.Equal(4096, runtime.AllocatedBytes);
        Assert.Equal((4000L, 4096L), engine.WeightsSize());
        Assert.Equal(1_048_576, engine.ScratchSize(0));
        Assert.Equal(4_194_304, engine.ScratchSize(1));

        using var context = engine.CreateContext(0, IntPtr.Zero, out var persistent);
        Assert.Equal(512, persistent);
        Assert.Equal(4096 + 512, runtime.AllocatedBytes);

        context.SetInputShape("input_ids", [8, 128]);
        context.SetInputShape("attention_mask", [8, 128]);
        Assert.Equal(1_048_576L * 8 / 32, context.ScratchSizeForShapes());

        using var stateless = Deserialize(runtime, "FAKEPLAN\ninput x 1 [1]\n");
        Assert.Equal((null, 0L), stateless.WeightsSize()); // stated -1: TensorRT before 10.14
    }

    [Fact]
    public void Pointers_and_streams_cross_unchanged()
    {
        FakeShim.Require();
        using var runtime = ShimRuntimeHandle.Create();
        using var engine = Deserialize(runtime, BertPlan);
        using var context = engine.CreateContext(1, unchecked((IntPtr)0x7f00_dead_beef), out _);

        context.SetScratch(unchecked((IntPtr)0x10_0000_0000L), 4_194_304);
        context.SetInputShape("input_ids", [64, 128]);
        context.SetInputShape("attention_mask", [64, 128]);
        context.SetTensorAddress("input_ids", 0x1000);
        context.SetTensorAddress("attention_mask", 0x2000);
        context.SetTensorAddress("logits", unchecked((IntPtr)0xffff_ffff_ffff_ff00));
        context.Enqueue(0x1234_5678);

        Assert.Equal(1, context.Profile);
        Assert.Equal([64L, 128, 2], context.TensorShape("logits"));
        var calls = FakeShim.Calls();
        Assert.Contains("context_create 1 0x7f00deadbeef", calls);
        Assert.Contains("context_set_scratch 0x1000000000 4194304", calls);
        Assert.Contains("context_set_tensor_address logits 0xffffffffffffff00", calls);
        Assert.Contains("context_enqueue 0x12345678", calls);
    }

    [Fact]
    public void Host_memory_copies_out_whole()
    {
        FakeShim.Require();
        using var result = Build(BertModel, new EngineBuildOptions { Profiles = [TestProfiles.Bert(1, 1, 1)] });

        var bytes = result.Plan.ToArray();
        using var stream = new MemoryStream();
        result.Plan.CopyTo(stream);

        Assert.Equal(result.Plan.Size, bytes.Length);
        Assert.Equal(bytes, stream.ToArray());
        Assert.StartsWith("FAKEPLAN\n", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
    }

    // ---- helpers ----

    private static ShimEngineHandle Deserialize(ShimRuntimeHandle runtime, string plan) =>
        runtime.DeserializeEngine(Encoding.UTF8.GetBytes(plan.ReplaceLineEndings("\n")));

    private static ShimBuildResult Build(string model, EngineBuildOptions settings, string? modelPath = null, bool returnTimingCache = false, byte[]? timingCache = null) =>
        ShimEngineBuilder.Build(Encoding.UTF8.GetBytes(model.ReplaceLineEndings("\n")), modelPath, settings, timingCache ?? [], returnTimingCache);

    /// <summary>Collects what reaches <see cref="ShimLibrary.Log"/> while it is alive.</summary>
    private sealed class LogRecorder : IDisposable
    {
        private readonly List<(ShimLogSeverity Severity, string Text, int ThreadId)> _messages = [];

        public LogRecorder() => ShimLibrary.Log += OnLog;

        public IReadOnlyList<(ShimLogSeverity Severity, string Text, int ThreadId)> Messages
        {
            get
            {
                lock (_messages)
                    return [.. _messages];
            }
        }

        public void Dispose() => ShimLibrary.Log -= OnLog;

        private void OnLog(ShimLogSeverity severity, string text)
        {
            lock (_messages)
                _messages.Add((severity, text, Environment.CurrentManagedThreadId));
        }
    }
}
