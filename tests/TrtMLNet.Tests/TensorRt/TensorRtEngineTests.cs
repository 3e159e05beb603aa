using System.Text;
using TrtMLNet.Backends;
using TrtMLNet.Backends.TensorRt;
using TrtMLNet.Native.TensorRt;

namespace TrtMLNet.Tests.TensorRt;

/// <summary>
/// TensorRtEngine and its contexts against the fake shim, on a fake device: how the engine's tensors,
/// profiles and memory figures are read, and exactly which calls an execution makes.
/// </summary>
[Collection(TensorRtShimCollection.Name)]
public sealed class TensorRtEngineTests
{
    internal const string BertPlan = """
        FAKEPLAN
        input input_ids 7 [-1,128]
        input attention_mask 7 [-1,128]
        output logits 1 [-1,128,2]
        output pooled 1 [-1,16]
        profile 0 input_ids [1,128] [8,128] [32,128]
        profile 0 attention_mask [1,128] [8,128] [32,128]
        profile 1 input_ids [64,128] [64,128] [64,128]
        profile 1 attention_mask [64,128] [64,128] [64,128]
        scratch 0 1048576
        scratch 1 4194304
        weights 4000 4096
        persistent 512
        """;

    private const long Profile0Scratch = 1_048_576;
    private const long PooledMaxBytes = 32 * 16 * 4;
    private const long LogitsMaxBytes = 32 * 128 * 2 * 4;
    private static readonly HandleStream Stream = new(0x5000);
    private static readonly IntPtr Slab = unchecked((IntPtr)0x6600_0000_0000);

    private readonly FakeTensorRtDevice _device = new();

    internal static byte[] Bytes(string plan) => Encoding.UTF8.GetBytes(plan.ReplaceLineEndings("\n"));

    private TensorRtEngine Load(string plan = BertPlan, ShimInfo? shim = null) =>
        TensorRtEngine.Load(Bytes(plan), _device, shim ?? ShimLibrary.Info);

    private static ExecutionRequest Request(long batch, bool logits = true, bool pooled = false, long scratchBytes = Profile0Scratch,
        IntPtr? scratch = null, TensorElementType idsType = TensorElementType.Int64)
    {
        var outputs = new List<TensorBuffer>();
        if (logits)
            outputs.Add(new("logits", TensorElementType.Float32, [batch, 128, 2], 0x3000_0000, batch * 128 * 2 * 4));
        if (pooled)
            outputs.Add(new("pooled", TensorElementType.Float32, [batch, 16], 0x4000_0000, batch * 16 * 4));
        return new ExecutionRequest
        {
            Inputs =
            [
                new("input_ids", idsType, [batch, 128], 0x1000_0000, batch * 128 * 8),
                new("attention_mask", TensorElementType.Int64, [batch, 128], 0x2000_0000, batch * 128 * 8),
            ],
            Outputs = [.. outputs],
            Stream = Stream,
            Scratch = scratch ?? Slab,
            ScratchBytes = scratchBytes,
        };
    }

    private static string[] CallsSince(int mark) => FakeShim.Calls().Skip(mark).ToArray();

    private static string Hex(IntPtr pointer) => $"0x{(long)pointer:x}";

    // ---- what the engine says about itself ----

    [Fact]
    public void Reads_inputs_outputs_profiles_and_memory_from_the_plan()
    {
        FakeShim.Require();
        using var engine = Load();

        Assert.Equal(TensorRtBackend.TensorRt, engine.Backend);
        Assert.Equal(0, engine.Device.Id);
        Assert.True(engine.UsesCallerScratch);
        Assert.Equal("TensorRT 10.16 on GPU 0 (NVIDIA Fake GPU 80GB)", engine.Description);
        Assert.Equal(["input_ids", "attention_mask"], engine.Inputs.Select(i => i.Name));
        Assert.All(engine.Inputs, i => Assert.Equal(TensorElementType.Int64, i.ElementType));
        Assert.Equal([-1L, 128], engine.Inputs[0].Shape);
        Assert.Equal(["logits", "pooled"], engine.Outputs.Select(o => o.Name));
        Assert.Equal([-1L, 128, 2], engine.Outputs[0].Shape);
        Assert.Equal("float", engine.Outputs[0].TypeName);

        Assert.Equal(2, engine.Profiles.Count);
        Assert.Equal([0, 1], engine.Profiles.Select(p => p.Index));
        var (min, opt, max) = engine.Profiles[0].Shapes["attention_mask"];
        Assert.Equal([1L, 128], min);
        Assert.Equal([8L, 128], opt);
        Assert.Equal([32L, 128], max);
        Assert.Equal([64L, 128], engine.Profiles[1].Shapes["input_ids"].Min);
        Assert.Equal(32, engine.Profiles[0].MaxBatch);

        Assert.Equal(Profile0Scratch, engine.ScratchBytes(0));
        Assert.Equal(4_194_304, engine.ScratchBytes(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => engine.ScratchBytes(2));
        Assert.Equal(new EngineWeights(4000, 4096), engine.Weights);
        // The runtime is made on the device's context, so the context is made current first.
        Assert.True(_device.MakeCurrentCalls >= 1);
    }

    [Fact]
    public void Weights_are_only_measured_before_tensorrt_10_14()
    {
        FakeShim.Require();
        using var engine = Load("FAKEPLAN\ninput x 1 [2,3]\noutput y 1 [2,3]\nweights -1 777\n");

        Assert.Equal(new EngineWeights(null, 777), engine.Weights);
        Assert.Equal(777, engine.Weights.Best);
    }

    [Fact]
    public void A_static_input_ranges_over_its_own_shape_in_every_profile()
    {
        FakeShim.Require();
        using var engine = Load("""
            FAKEPLAN
            input x 1 [-1,4]
            input table 1 [10,4]
            output y 1 [-1,4]
            profile 0 x [1,4] [2,4] [8,4]
            profile 1 x [16,4] [16,4] [16,4]
            """);

        foreach (var profile in engine.Profiles)
        {
            var (min, opt, max) = profile.Shapes["table"];
            Assert.Equal([10L, 4], min);
            Assert.Equal([10L, 4], opt);
            Assert.Equal([10L, 4], max);
        }
        Assert.Equal([16L, 4], engine.Profiles[1].Shapes["x"].Max);
    }

    /// <summary>Each shim data type (numbers as trtmlnet_shim.h) and what it becomes.</summary>
    public static TheoryData<int, string, string> DataTypes => new()
    {
        { 1, nameof(TensorElementType.Float32), "float" },
        { 5, nameof(TensorElementType.UInt8), "uint8" },
        { 6, nameof(TensorElementType.Int32), "int32" },
        { 7, nameof(TensorElementType.Int64), "int64" },
        { 8, nameof(TensorElementType.Bool), "bool" },
        { 2, nameof(TensorElementType.Float16), "float16" },
        { 3, nameof(TensorElementType.BFloat16), "bfloat16" },
        { 4, nameof(TensorElementType.Unsupported), "int8" },
        { 9, nameof(TensorElementType.Unsupported), "fp8" },
        { 10, nameof(TensorElementType.Unsupported), "int4" },
        { 11, nameof(TensorElementType.Unsupported), "fp4" },
        { 0, nameof(TensorElementType.Unsupported), "no name" },
    };

    [Theory]
    [MemberData(nameof(DataTypes))]
    public void Maps_each_tensorrt_type(int shimType, string elementType, string typeName)
    {
        FakeShim.Require();
        using var engine = Load($"FAKEPLAN\ninput x {shimType} [-1,3]\noutput y {shimType} [-1,3]\nprofile 0 x [1,3] [1,3] [4,3]\n");

        Assert.Equal(Enum.Parse<TensorElementType>(elementType), engine.Inputs[0].ElementType);
        Assert.Equal(Enum.Parse<TensorElementType>(elementType), engine.Outputs[0].ElementType);
        Assert.Contains(typeName, engine.Outputs[0].TypeName);
    }

    [Fact]
    public void Tensorrt_has_no_double_so_no_engine_tensor_is_float64()
    {
        // TensorRT's DataType has no 64-bit float; every type the shim can name maps elsewhere.
        foreach (var type in Enum.GetValues<ShimDataType>())
            Assert.NotEqual(TensorElementType.Float64, TensorRtDataTypes.ToElementType(type).Type);
    }

    [Theory]
    [InlineData("input shape_in 7 [2] host", "input 'shape_in' lives in host memory")]
    [InlineData("output packed 1 [-1,32] nonlinear", "output 'packed' has a vectorized (non-linear) format")]
    public void Tensors_trtmlnet_cannot_bind_are_refused_naming_them(string line, string words)
    {
        FakeShim.Require();

        var error = Assert.Throws<NotSupportedException>(() => Load($"FAKEPLAN\ninput x 1 [-1,32]\noutput y 1 [-1,32]\n{line}\nprofile 0 x [1,32] [1,32] [4,32]\n"));

        Assert.Contains(words, error.Message);
        // Nothing leaks: the engine and the runtime are gone.
        var calls = FakeShim.Calls();
        Assert.Contains("engine_destroyed", calls);
        Assert.Contains("runtime_release", calls);
    }

    [Fact]
    public void A_plan_tensorrt_rejects_surfaces_with_its_message()
    {
        FakeShim.Require();

        var error = Assert.Throws<TensorRtException>(() => Load("not a plan at all"));

        Assert.Equal(TensorRtErrorCode.TensorRt, error.ErrorCode);
        Assert.Contains("Magic tag does not match", error.NativeMessage);
        Assert.Contains("runtime_release", FakeShim.Calls());
    }

    // ---- contexts ----

    [Fact]
    public void A_context_is_user_managed_on_its_profile_and_reports_its_persistent_memory()
    {
        FakeShim.Require();
        using var engine = Load();

        using var context = engine.CreateContext(1, new HandleStream(0x7777));

        Assert.Equal(1, context.Profile);
        Assert.Equal(512, context.PersistentBytes);
        Assert.Contains("context_create 1 0x7777", FakeShim.Calls());
        Assert.Throws<ArgumentOutOfRangeException>(() => engine.CreateContext(2, Stream));
    }

    [Fact]
    public void Infers_output_shapes_without_running()
    {
        FakeShim.Require();
        using var engine = Load();
        var mark = FakeShim.Calls().Length;

        var shapes = engine.InferOutputShapes(new Dictionary<string, long[]> { ["input_ids"] = [8, 128], ["attention_mask"] = [8, 128] });

        Assert.Equal([8L, 128, 2], shapes["logits"]);
        Assert.Equal([8L, 16], shapes["pooled"]);
        Assert.Equal(
            [
                "context_create 0 0x0",
                "context_set_input_shape input_ids [8,128]", "context_set_input_shape attention_mask [8,128]",
                "context_tensor_shape logits", "context_tensor_shape pooled",
                "context_release", "context_destroyed",
            ],
            CallsSince(mark));
        Assert.DoesNotContain(CallsSince(mark), c => c.StartsWith("context_enqueue", StringComparison.Ordinal));
    }

    [Fact]
    public void Infers_output_shapes_on_the_profile_that_accepts_the_inputs()
    {
        FakeShim.Require();
        using var engine = Load();
        var mark = FakeShim.Calls().Length;

        var shapes = engine.InferOutputShapes(new Dictionary<string, long[]> { ["input_ids"] = [64, 128], ["attention_mask"] = [64, 128] });

        Assert.Equal([64L, 16], shapes["pooled"]);
        Assert.Equal("context_create 1 0x0", CallsSince(mark)[0]);
    }

    [Fact]
    public void Shape_inference_refuses_shapes_no_profile_accepts_and_missing_inputs()
    {
        FakeShim.Require();
        using var engine = Load();

        var outside = Assert.Throws<ArgumentException>(() =>
            engine.InferOutputShapes(new Dictionary<string, long[]> { ["input_ids"] = [40, 128], ["attention_mask"] = [40, 128] }));
        Assert.Contains("No optimization profile", outside.Message);
        Assert.Contains("'input_ids' [1,128]..[32,128]", outside.Message);

        var missing = Assert.Throws<ArgumentException>(() => engine.InferOutputShapes(new Dictionary<string, long[]> { ["input_ids"] = [8, 128] }));
        Assert.Contains("'attention_mask'", missing.Message);
    }

    // ---- executions ----

    [Fact]
    public void An_execution_sets_changed_shapes_scratch_every_address_and_enqueues_on_the_stream()
    {
        FakeShim.Require();
        using var engine = Load();
        using var context = (TensorRtExecutionContext)engine.CreateContext(0, Stream);
        var mark = FakeShim.Calls().Length;

        context.Enqueue(Request(8));

        var discard = Assert.Single(_device.Allocations);
        Assert.Equal(PooledMaxBytes, discard.Bytes); // only 'pooled' is unread, at the profile's largest batch
        Assert.Equal(
            [
                // Sizing the unread outputs' buffer: the profile's largest shapes, every output's shape.
                "context_set_input_shape input_ids [32,128]", "context_set_input_shape attention_mask [32,128]",
                "context_tensor_shape logits", "context_tensor_shape pooled",
                // This batch.
                "context_set_input_shape input_ids [8,128]", "context_set_input_shape attention_mask [8,128]",
                "context_tensor_shape logits",
                $"context_set_scratch {Hex(Slab)} {Profile0Scratch}",
                "context_set_tensor_address input_ids 0x10000000", "context_set_tensor_address attention_mask 0x20000000",
                "context_set_tensor_address logits 0x30000000",
                $"context_set_tensor_address pooled {Hex(discard.Pointer)}",
                "context_enqueue 0x5000",
            ],
            CallsSince(mark));
        Assert.Equal(512 + PooledMaxBytes, context.PersistentBytes);

        // The same shapes again: no shape call, no shape query, and the buffer stays.
        mark = FakeShim.Calls().Length;
        context.Enqueue(Request(8));
        Assert.Equal(
            [
                $"context_set_scratch {Hex(Slab)} {Profile0Scratch}",
                "context_set_tensor_address input_ids 0x10000000", "context_set_tensor_address attention_mask 0x20000000",
                "context_set_tensor_address logits 0x30000000",
                $"context_set_tensor_address pooled {Hex(discard.Pointer)}",
                "context_enqueue 0x5000",
            ],
            CallsSince(mark));

        // Another batch size: its shapes are set, and the output checked against them.
        mark = FakeShim.Calls().Length;
        context.Enqueue(Request(3));
        Assert.Equal(
            [
                "context_set_input_shape input_ids [3,128]", "context_set_input_shape attention_mask [3,128]",
                "context_tensor_shape logits",
                $"context_set_scratch {Hex(Slab)} {Profile0Scratch}",
            ],
            CallsSince(mark)[..4]);
        Assert.Single(_device.Allocations);
        Assert.False(discard.Disposed);
    }

    [Fact]
    public void When_every_output_is_read_no_buffer_is_allocated()
    {
        FakeShim.Require();
        using var engine = Load();
        using var context = engine.CreateContext(0, Stream);
        var mark = FakeShim.Calls().Length;

        context.Enqueue(Request(8, logits: true, pooled: true));

        Assert.Empty(_device.Allocations);
        Assert.Equal(512, context.PersistentBytes);
        Assert.Equal("context_set_input_shape input_ids [8,128]", CallsSince(mark)[0]);
        Assert.Contains("context_set_tensor_address pooled 0x40000000", CallsSince(mark));
    }

    [Fact]
    public void Unread_outputs_each_get_their_own_slice_and_the_buffer_grows_when_more_go_unread()
    {
        FakeShim.Require();
        using var engine = Load();
        using var context = engine.CreateContext(0, Stream);

        context.Enqueue(Request(8, logits: true, pooled: false));
        var small = Assert.Single(_device.Allocations);
        var mark = FakeShim.Calls().Length;
        context.Enqueue(Request(8, logits: false, pooled: true));

        Assert.True(small.Disposed);
        var large = _device.Allocations[1];
        Assert.Equal(LogitsMaxBytes, large.Bytes);
        Assert.Contains($"context_set_tensor_address logits {Hex(large.Pointer)}", CallsSince(mark));

        // Both unread: two slices, one after the other (aligned), never one address for two outputs.
        mark = FakeShim.Calls().Length;
        context.Enqueue(Request(8, logits: false, pooled: false));
        var both = _device.Allocations[2];
        Assert.Equal(LogitsMaxBytes + PooledMaxBytes, both.Bytes);
        Assert.Contains($"context_set_tensor_address logits {Hex(both.Pointer)}", CallsSince(mark));
        Assert.Contains($"context_set_tensor_address pooled {Hex(both.Pointer + (nint)LogitsMaxBytes)}", CallsSince(mark));

        context.Dispose();
        Assert.True(both.Disposed);
    }

    [Fact]
    public void Each_profile_takes_its_own_scratch()
    {
        FakeShim.Require();
        using var engine = Load();
        using var context = engine.CreateContext(1, Stream);
        var mark = FakeShim.Calls().Length;

        context.Enqueue(Request(64, pooled: true, scratchBytes: 4_194_304));

        Assert.Contains($"context_set_scratch {Hex(Slab)} 4194304", CallsSince(mark));
        Assert.Equal("context_enqueue 0x5000", CallsSince(mark)[^1]);
        Assert.Throws<InvalidOperationException>(() => context.Enqueue(Request(64, pooled: true, scratchBytes: Profile0Scratch)));
    }

    [Fact]
    public void A_slab_below_the_profiles_bound_is_enough_when_tensorrt_says_these_shapes_fit()
    {
        FakeShim.Require();
        using var engine = Load();
        using var context = engine.CreateContext(0, Stream);
        // The fake needs scratch x batch / max batch: 8 of 32 rows need a quarter.
        var quarter = Profile0Scratch / 4;
        var mark = FakeShim.Calls().Length;

        context.Enqueue(Request(8, pooled: true, scratchBytes: quarter));

        Assert.Contains("context_scratch_size_for_shapes", CallsSince(mark));
        Assert.Contains($"context_set_scratch {Hex(Slab)} {quarter}", CallsSince(mark));

        mark = FakeShim.Calls().Length;
        var error = Assert.Throws<InvalidOperationException>(() => context.Enqueue(Request(16, pooled: true, scratchBytes: quarter)));

        Assert.Contains("512 KiB of scratch", error.Message);
        Assert.Contains("profile 0", error.Message);
        Assert.Contains("'input_ids' [16,128]", error.Message);
        Assert.Contains("256 KiB", error.Message);
        Assert.DoesNotContain(CallsSince(mark), c => c.StartsWith("context_enqueue", StringComparison.Ordinal) || c.StartsWith("context_set_scratch", StringComparison.Ordinal));
    }

    [Fact]
    public void No_scratch_for_an_engine_that_needs_some_is_refused_before_tensorrt_sees_it()
    {
        FakeShim.Require();
        using var engine = Load();
        using var context = engine.CreateContext(0, Stream);

        var error = Assert.Throws<InvalidOperationException>(() => context.Enqueue(Request(8, pooled: true, scratchBytes: 0, scratch: IntPtr.Zero)));

        Assert.Contains("given none", error.Message);
    }

    [Fact]
    public void An_engine_that_needs_no_scratch_runs_without_any()
    {
        FakeShim.Require();
        using var engine = Load("FAKEPLAN\ninput x 1 [2,3]\noutput y 1 [2,3]\n");
        using var context = engine.CreateContext(0, Stream);
        var mark = FakeShim.Calls().Length;

        context.Enqueue(new ExecutionRequest
        {
            Inputs = [new("x", TensorElementType.Float32, [2, 3], 0x1000, 24)],
            Outputs = [new("y", TensorElementType.Float32, [2, 3], 0x2000, 24)],
            Stream = Stream,
        });

        Assert.Equal(["context_set_input_shape x [2,3]", "context_tensor_shape y", "context_set_scratch 0x0 0",
            "context_set_tensor_address x 0x1000", "context_set_tensor_address y 0x2000", "context_enqueue 0x5000"], CallsSince(mark));
    }

    // ---- failures ----

    [Fact]
    public void Native_failures_surface_as_tensorrt_exceptions_with_tensorrts_words()
    {
        FakeShim.Require();
        using var engine = Load();
        using var context = engine.CreateContext(0, Stream);
        FakeShim.FailNext("trts_context_enqueue", TensorRtErrorCode.Cuda, "an illegal memory access was encountered");

        var error = Assert.Throws<TensorRtException>(() => context.Enqueue(Request(8, pooled: true)));

        Assert.Equal(TensorRtErrorCode.Cuda, error.ErrorCode);
        Assert.Equal("an illegal memory access was encountered", error.NativeMessage);
        Assert.Contains("stream 0x5000", error.Message);
    }

    [Fact]
    public void A_shape_tensorrt_refuses_is_set_again_next_time()
    {
        FakeShim.Require();
        using var engine = Load();
        using var context = engine.CreateContext(0, Stream);
        context.Enqueue(Request(8, pooled: true));

        var error = Assert.Throws<TensorRtException>(() => context.Enqueue(Request(40, pooled: true)));
        Assert.Equal(TensorRtErrorCode.TensorRt, error.ErrorCode);
        Assert.Contains("does not satisfy any optimization profiles", error.NativeMessage);
        Assert.Contains("'input_ids'", error.Message);

        // What TensorRT holds after a refusal is not trusted: the good shape is set again.
        var mark = FakeShim.Calls().Length;
        context.Enqueue(Request(8, pooled: true));
        Assert.Equal("context_set_input_shape input_ids [8,128]", CallsSince(mark)[0]);
        Assert.Equal("context_enqueue 0x5000", CallsSince(mark)[^1]);
    }

    public static TheoryData<string, string> BadRequests => new()
    {
        { "unknown input", "'token_type_ids' is not an input" },
        { "missing input", "missing: 'attention_mask'" },
        { "input twice", "given twice" },
        { "wrong input type", "given as int32, but the TensorRT engine's is int64" },
        { "unknown output", "'hidden' is not an output" },
        { "output shaped wrong", "computes output 'logits' as [8,128,2], but its buffer is laid out as [8,256]" },
        { "output buffer too small", "takes 8192 bytes, but its buffer holds 100" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public void A_request_that_does_not_fit_the_engine_is_refused_before_enqueueing(string problem, string words)
    {
        FakeShim.Require();
        using var engine = Load();
        using var context = engine.CreateContext(0, Stream);
        var good = Request(8, pooled: true);
        var request = problem switch
        {
            "unknown input" => With(good, inputs: [.. good.Inputs, new("token_type_ids", TensorElementType.Int64, [8, 128], 0x9000, 8192)]),
            "missing input" => With(good, inputs: [good.Inputs[0]]),
            "input twice" => With(good, inputs: [.. good.Inputs, good.Inputs[0]]),
            "wrong input type" => Request(8, pooled: true, idsType: TensorElementType.Int32),
            "unknown output" => With(good, outputs: [new("hidden", TensorElementType.Float32, [8, 16], 0x9000, 512)]),
            "output shaped wrong" => With(good, outputs: [good.Outputs[0] with { Shape = [8, 256] }]),
            "output buffer too small" => With(good, outputs: [good.Outputs[0] with { Bytes = 100 }]),
            _ => throw new ArgumentOutOfRangeException(nameof(problem)),
        };
        var mark = FakeShim.Calls().Length;

        var error = Assert.ThrowsAny<ArgumentException>(() => context.Enqueue(request));

        Assert.Contains(words, error.Message);
        Assert.DoesNotContain(CallsSince(mark), c => c.StartsWith("context_enqueue", StringComparison.Ordinal));
    }

    private static ExecutionRequest With(ExecutionRequest request, TensorBuffer[]? inputs = null, TensorBuffer[]? outputs = null) => new()
    {
        Inputs = inputs ?? request.Inputs,
        Outputs = outputs ?? request.Outputs,
        Stream = request.Stream,
        Scratch = request.Scratch,
        ScratchBytes = request.ScratchBytes,
    };

    [Fact]
    public void Outputs_whose_shape_depends_on_values_cannot_be_bound()
    {
        FakeShim.Require();
        // The fake resolves a -1 only from the first input's dimension at the same index; [-1,-1,-1] keeps its last one open.
        using var engine = Load("FAKEPLAN\ninput x 1 [-1,4]\noutput y 1 [-1,4]\noutput found 7 [-1,-1,-1]\nprofile 0 x [1,4] [2,4] [8,4]\nscratch 0 1024\n");
        using var context = engine.CreateContext(0, Stream);
        var x = new TensorBuffer("x", TensorElementType.Float32, [2, 4], 0x1000, 32);

        var unread = Assert.Throws<NotSupportedException>(() => context.Enqueue(new ExecutionRequest
        {
            Inputs = [x], Outputs = [new("y", TensorElementType.Float32, [2, 4], 0x2000, 32)], Stream = Stream, Scratch = Slab, ScratchBytes = 1024,
        }));
        Assert.Contains("'found'", unread.Message);
        Assert.Contains("depends on the input values", unread.Message);

        var read = Assert.Throws<NotSupportedException>(() => context.Enqueue(new ExecutionRequest
        {
            Inputs = [x],
            Outputs = [new("y", TensorElementType.Float32, [2, 4], 0x2000, 32), new("found", TensorElementType.Int64, [2, 4, 1], 0x3000, 64)],
            Stream = Stream, Scratch = Slab, ScratchBytes = 1024,
        }));
        Assert.Contains("'found'", read.Message);
    }

    // ---- lifetime ----

    [Fact]
    public void Contexts_go_before_the_engine_and_the_engine_before_its_runtime()
    {
        FakeShim.Require();
        var engine = Load();
        var context = engine.CreateContext(0, Stream);
        context.Enqueue(Request(8));

        // The engine released while a context lives: the shim keeps the engine for the context.
        engine.Dispose();
        Assert.DoesNotContain("engine_destroyed", FakeShim.Calls());
        context.Enqueue(Request(8));

        context.Dispose();
        var calls = FakeShim.Calls().ToList();
        Assert.True(calls.IndexOf("engine_release") < calls.IndexOf("runtime_release"), string.Join("\n", calls));
        Assert.True(calls.IndexOf("context_destroyed") < calls.IndexOf("engine_destroyed"), string.Join("\n", calls));
        Assert.True(_device.Allocations.All(a => a.Disposed));
        Assert.Throws<ObjectDisposedException>(() => context.Enqueue(Request(8)));
        Assert.Throws<ObjectDisposedException>(() => engine.CreateContext(0, Stream));
    }
}
