using System.Runtime.InteropServices;
using TrtMLNet.Backends;
using TrtMLNet.Device;

namespace TrtMLNet.Tests.Support;

/// <summary>
/// A test engine that catches two executions sharing memory: every execution writes its own token
/// over all of its scratch, works a little while, and then checks that the token is still there
/// everywhere. It also checks that no context runs two executions at once, records which outputs were
/// asked for, and computes y = x + 1 so the values can be checked too.
/// </summary>
internal sealed class MarkingEngine : IInferenceEngine
{
    private readonly int width;
    private readonly long scratchBytes;
    private readonly IDisposable? _deviceUse;
    private readonly DeviceBuffer? _weights;
    private long _tokens;
    private long _executions;
    private long _scratchViolations;
    private long _contextViolations;
    private long _running;
    private long _overlappingExecutions;
    private long _rows;

    /// <param name="width">Values per row of x and y.</param>
    /// <param name="scratchBytes">Scratch an execution needs.</param>
    /// <param name="device">Where it runs (the CPU by default).</param>
    /// <param name="weightsBytes">Memory it takes at load, as an engine's weights, declared to the device first as real engines do.</param>
    public MarkingEngine(int width, long scratchBytes = 64 * 1024, ComputeDevice? device = null, long weightsBytes = 0)
    {
        this.width = width;
        this.scratchBytes = scratchBytes;
        Device = device ?? ComputeDevice.Cpu;
        if (weightsBytes > 0)
        {
            _deviceUse = Device.BeginUse();
            _weights = Device.AllocateDevice(weightsBytes, "marking engine weights");
        }
    }

    public int Width => width;

    public long Executions => Interlocked.Read(ref _executions);

    public long ScratchViolations => Interlocked.Read(ref _scratchViolations);

    public long ContextViolations => Interlocked.Read(ref _contextViolations);

    /// <summary>Executions that began while another was running.</summary>
    public long OverlappingExecutions => Interlocked.Read(ref _overlappingExecutions);

    public long Rows => Interlocked.Read(ref _rows);

    /// <summary>The threads (lanes) that executed, by name, with how many executions each.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, int> ExecutionsByThread { get; } = new();

    /// <summary>How long, at most, an execution holds its scratch (it varies randomly below this).</summary>
    public TimeSpan MaxWork { get; set; } = TimeSpan.FromMilliseconds(0.3);

    /// <summary>
    /// Thrown for a batch whose input is all zeros: a model that takes lengths or shapes as inputs refuses such
    /// a batch, and a device error can strike any batch. Null: zeros are scored like any input.
    /// </summary>
    public Func<Exception>? OnZeros { get; init; }

    public List<string[]> RequestedOutputs { get; } = [];

    public TensorRtBackend Backend => TensorRtBackend.OnnxRuntimeCpu;

    /// <summary>The batch sizes it asks partial batches to be padded to, as ONNX Runtime CUDA does; null: any size.</summary>
    public IReadOnlyList<int>? TunedBatchSizes { get; init; }

    public string Description => "marking test engine on the CPU";

    public ComputeDevice Device { get; }

    public bool ContextsNeedOwnProfile => false;

    public IReadOnlyList<TensorInfo> Inputs => [new("x", TensorElementType.Float32, [-1, width], ["N", null])];

    public IReadOnlyList<TensorInfo> Outputs =>
        [new("y", TensorElementType.Float32, [-1, width], ["N", null]), new("z", TensorElementType.Float32, [-1, 1], ["N", null])];

    public IReadOnlyList<EngineProfile> Profiles { get; } = [EngineProfile.Unbounded];

    public EngineWeights Weights => new(1024, null);

    public bool UsesCallerScratch => true;

    public long? ScratchBytes(int profile) => scratchBytes;

    public IEngineContext CreateContext(int profile, DeviceStream stream) => new Context(this);

    public IReadOnlyDictionary<string, long[]> InferOutputShapes(IReadOnlyDictionary<string, long[]> inputShapes) =>
        new Dictionary<string, long[]> { ["y"] = inputShapes["x"], ["z"] = [inputShapes["x"][0], 1] };

    public void Dispose()
    {
        _weights?.Dispose();
        _deviceUse?.Dispose();
    }

    /// <summary>The model the engine pretends to run, for ModelSource: the same signature, as ONNX.</summary>
    public static byte[] Signature(int width) => new Models.OnnxModelBuilder()
        .Input("x", Models.OnnxType.Float, "N", width)
        .Node("Identity", ["x"], ["y"])
        .Node("ReduceSum", ["x"], ["z"], ("axes", new long[] { 1 }), ("keepdims", 1L))
        .Output("y", Models.OnnxType.Float, "N", width)
        .Output("z", Models.OnnxType.Float, "N", 1)
        .Build();

    private sealed class Context(MarkingEngine engine) : IEngineContext
    {
        private int _busy;

        public int Profile => 0;

        public long? PersistentBytes => 0;

        public unsafe void Enqueue(ExecutionRequest request)
        {
            if (Interlocked.Exchange(ref _busy, 1) != 0)
                Interlocked.Increment(ref engine._contextViolations);
            if (Interlocked.Increment(ref engine._running) > 1)
                Interlocked.Increment(ref engine._overlappingExecutions);
            try
            {
                // It computes on the calling thread: on an asynchronous device it must first let the stream's
                // earlier work (the inputs' copies) land, as a real engine's kernels would wait for it.
                if (!engine.Device.SharesHostMemory)
                    request.Stream.Synchronize();
                lock (engine.RequestedOutputs)
                    engine.RequestedOutputs.Add(request.Outputs.Select(o => o.Name).ToArray());
                var token = Interlocked.Increment(ref engine._tokens);
                var scratch = new Span<long>((void*)request.Scratch, (int)(request.ScratchBytes / sizeof(long)));
                scratch.Fill(token);
                var until = System.Diagnostics.Stopwatch.GetTimestamp() + (long)(Random.Shared.NextDouble() * engine.MaxWork.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
                while (System.Diagnostics.Stopwatch.GetTimestamp() < until)
                    Thread.SpinWait(20);
                foreach (var value in scratch)
                {
                    if (value != token)
                    {
                        Interlocked.Increment(ref engine._scratchViolations);
                        break;
                    }
                }

                var input = request.Inputs[0];
                var rows = (int)input.Shape[0];
                var x = new ReadOnlySpan<float>((void*)input.Data, rows * engine.Width);
                if (engine.OnZeros is { } refusal && !x.ContainsAnyExcept(0f))
                    throw refusal();
                foreach (var output in request.Outputs)
                {
                    if (output.Name == "y")
                    {
                        var y = new Span<float>((void*)output.Data, rows * engine.Width);
                        for (var i = 0; i < y.Length; i++) y[i] = x[i] + 1;
                    }
                    else
                    {
                        var z = new Span<float>((void*)output.Data, rows);
                        for (var r = 0; r < rows; r++) z[r] = x.Slice(r * engine.Width, engine.Width).ToArray().Sum();
                    }
                }
                Interlocked.Add(ref engine._rows, rows);
                Interlocked.Increment(ref engine._executions);
                engine.ExecutionsByThread.AddOrUpdate(Thread.CurrentThread.Name ?? "unnamed", 1, (_, n) => n + 1);
            }
            finally
            {
                Interlocked.Decrement(ref engine._running);
                Volatile.Write(ref _busy, 0);
            }
        }

        public void Dispose() { }
    }
}
