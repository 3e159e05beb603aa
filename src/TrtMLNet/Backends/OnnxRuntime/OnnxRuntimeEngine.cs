using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using TrtMLNet.Device;
using TrtMLNet.Onnx;
using OrtElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;

namespace TrtMLNet.Backends.OnnxRuntime;

/// <summary>
/// A model in ONNX Runtime, on the CPU, on CUDA or on ONNX Runtime's TensorRT provider. One session
/// serves every context and lane (its Run is thread-safe), so the weights are on the device once; on
/// CUDA with cuDNN's algorithm search, one session per batch size it is tuned for (see
/// <see cref="IInferenceEngine.TunedBatchSizes"/>), each with its copy of the weights. ONNX Runtime keeps
/// its own arena for activations, so scratch is not the caller's and its size is not known; what can be
/// measured (weights on a GPU) is.
/// </summary>
internal sealed class OnnxRuntimeEngine : IInferenceEngine
{
    // Weights are measured as the drop in free device memory around session creation; two creations
    // at once would blur each other's figures.
    private static readonly Lock s_measureLock = new();

    /// <summary>Ascending by size when tuned per size; else one session, for any size.</summary>
    private readonly SizedSession[] _sessions;
    private readonly OrtMemoryInfo _ioMemory;
    private readonly RunOptions _runOptions = SynchronizedRuns.Create();

    private readonly IDisposable _deviceUse;

    private OnnxRuntimeEngine(
        SizedSession[] sessions, EngineOptions options, ComputeDevice device, IDisposable deviceUse, OnnxModelFile file, long? measuredWeights, string description)
    {
        _sessions = sessions;
        _deviceUse = deviceUse;
        TunedBatchSizes = TunesPerShape(options, file) ? options.BatchSizes : null;
        Backend = options.Backend;
        Device = device;
        _ioMemory = device.SharesHostMemory
            ? OrtMemoryInfo.DefaultInstance
            : new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA, OrtAllocatorType.DeviceAllocator, device.Id, OrtMemType.Default);
        Description = description;
        var session = sessions[^1].Session;
        Inputs = session.InputMetadata.Select(p => ToTensorInfo(p.Key, p.Value)).ToList();
        Outputs = session.OutputMetadata.Select(p => ToTensorInfo(p.Key, p.Value)).ToList();
        Weights = new EngineWeights(file.InitializerBytes * sessions.Length, measuredWeights);
    }

    public TensorRtBackend Backend { get; }

    public string Description { get; }

    public ComputeDevice Device { get; }

    public IReadOnlyList<TensorInfo> Inputs { get; }

    public IReadOnlyList<TensorInfo> Outputs { get; }

    public IReadOnlyList<EngineProfile> Profiles { get; } = [EngineProfile.Unbounded];

    public EngineWeights Weights { get; }

    public bool UsesCallerScratch => false;

    public IReadOnlyList<int>? TunedBatchSizes { get; }

    /// <summary>The cost of a new shape is cuDNN's convolution set-up: a model without convolutions (BERT) runs any batch at its own size.</summary>
    internal static bool TunesPerShape(EngineOptions options, OnnxModelFile file) =>
        options.Backend == TensorRtBackend.OnnxRuntimeCuda && options.Build.ConvolutionSearch != CudnnConvolutionSearch.Heuristic
        && (file.OpTypes.Contains("Conv") || file.OpTypes.Contains("ConvTranspose"));

    /// <summary>ONNX Runtime's Run is thread-safe on one session; a "context" is only an IO binding.</summary>
    public bool ContextsNeedOwnProfile => false;

    public long? ScratchBytes(int profile) => null;

    /// <summary>
    /// Loads <paramref name="model"/> (already checked to be ONNX) into a session for the chosen backend.
    /// A model ONNX Runtime cannot capture as CUDA graphs loads without them, with a warning.
    /// </summary>
    public static OnnxRuntimeEngine Create(byte[] model, OnnxModelFile file, EngineOptions options, string source, Action<string> warn)
    {
        try
        {
            return CreateSession(model, file, options, source);
        }
        catch (InvalidOperationException e) when (options.Build.CudaGraphs && e.InnerException is OnnxRuntimeException
            && e.Message.Contains("graph", StringComparison.OrdinalIgnoreCase))
        {
            warn($"{source} runs without CUDA graphs: ONNX Runtime cannot capture it ({e.InnerException.Message}).");
            return CreateSession(model, file, options with { Build = options.Build with { CudaGraphs = false } }, source);
        }
    }

    private static OnnxRuntimeEngine CreateSession(byte[] model, OnnxModelFile file, EngineOptions options, string source)
    {
        using var sessionOptions = OnnxRuntimeSessionOptions.Create(options);
        var device = options.ComputeDevice();
        lock (s_measureLock)
        {
            var use = device.BeginUse();
            try
            {
                var before = device.MemoryInfo()?.Free;
                var sessions = CreateSessions(model, file, sessionOptions, options, source);
                var measured = before is { } b ? b - device.MemoryInfo()!.Value.Free : (long?)null;
                var description = $"ONNX Runtime {OnnxRuntimeSessionOptions.ProviderName(options.Backend)} on {(device.SharesHostMemory ? "the CPU" : device.Name)}";
                return new OnnxRuntimeEngine(sessions, options, device, use, file, measured, description);
            }
            catch
            {
                use.Dispose();
                throw;
            }
        }
    }

    private static SizedSession[] CreateSessions(byte[] model, OnnxModelFile file, SessionOptions sessionOptions, EngineOptions options, string source)
    {
        var graphs = options.Backend == TensorRtBackend.OnnxRuntimeCuda && options.Build.CudaGraphs;
        var sizes = TunesPerShape(options, file) ? options.BatchSizes.Select(s => (int?)s).ToArray() : [null];
        var sessions = new List<SizedSession>();
        try
        {
            foreach (var rows in sizes)
            {
                var runs = graphs ? new CudaGraphRuns(rows ?? options.FullBatchRows) : null;
                try
                {
                    sessions.Add(new SizedSession(new InferenceSession(model, sessionOptions), rows, runs));
                }
                catch
                {
                    runs?.Dispose();
                    throw;
                }
            }
            return [.. sessions];
        }
        catch (OnnxRuntimeException e)
        {
            sessions.ForEach(s => s.Dispose());
            throw new InvalidOperationException($"ONNX Runtime could not load {source} on {Where(options)}: {e.Message}", e);
        }
        catch
        {
            sessions.ForEach(s => s.Dispose());
            throw;
        }
    }

    /// <summary>The session a batch of <paramref name="rows"/> runs on: the one tuned for that size, or the only one; -1 when none is.</summary>
    private int SessionFor(long rows) => _sessions.Length == 1 ? 0 : Array.FindIndex(_sessions, s => s.Rows == rows);

    private static long RowsOf(IEnumerable<long[]> shapes) => shapes.FirstOrDefault(s => s.Length > 0) is [var rows, ..] ? rows : 1;

    internal int SessionCount => _sessions.Length;

    private static string Where(EngineOptions options) =>
        options.Backend == TensorRtBackend.OnnxRuntimeCpu ? "the CPU" : $"GPU {options.DeviceId} ({OnnxRuntimeSessionOptions.ProviderName(options.Backend)})";

    public IEngineContext CreateContext(int profile, DeviceStream stream) => new OnnxRuntimeContext(this);

    public IReadOnlyDictionary<string, long[]> InferOutputShapes(IReadOnlyDictionary<string, long[]> inputShapes)
    {
        // ONNX Runtime offers no shape inference through its API, so run the model once on zeros (in native
        // memory: a full batch of images can pass the 2 GiB a span reaches).
        var names = new List<string>();
        var values = new List<OrtValue>();
        var memory = new List<IntPtr>();
        try
        {
            foreach (var input in Inputs)
            {
                var shape = inputShapes[input.Name];
                var bytes = shape.Aggregate(1L, (a, b) => a * b) * input.ElementType.Size();
                unsafe { memory.Add((IntPtr)NativeMemory.AllocZeroed((nuint)Math.Max(bytes, 1))); }
                names.Add(input.Name);
                values.Add(OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, ToOrt(input.ElementType), shape, memory[^1], bytes));
            }
            // A tuned size runs on its own session (at fit, this is its tuning run); other shapes on the largest.
            // Never as a CUDA graph: a run without gpu_graph_id would be graph 0, a lane's, captured on these buffers.
            var index = SessionFor(RowsOf(names.Select(n => inputShapes[n])));
            var session = _sessions[index >= 0 ? index : ^1];
            using var results = session.Session.Run(session.Graphs?.Uncaptured ?? _runOptions, names, values, Outputs.Select(o => o.Name).ToList());
            return Outputs.Zip(results).ToDictionary(p => p.First.Name, p => p.Second.GetTensorTypeAndShape().Shape);
        }
        finally
        {
            foreach (var value in values)
                value.Dispose();
            unsafe
            {
                foreach (var pointer in memory)
                    NativeMemory.Free((void*)pointer);
            }
        }
    }

    internal void Run(ExecutionRequest request, OnnxRuntimeContext context)
    {
        var rows = RowsOf(request.Inputs.Select(t => t.Shape));
        var index = SessionFor(rows);
        if (index < 0)
            throw new InvalidOperationException(
                $"A batch of {rows} rows reached an engine tuned for batches of {string.Join(", ", TunedBatchSizes!)} only: it should have been padded.");
        var (session, graphs, binding) = (_sessions[index].Session, _sessions[index].Graphs, context.BindingFor(index));
        var inputs = new OrtValue[request.Inputs.Length];
        var outputs = new OrtValue[request.Outputs.Length];
        try
        {
            for (var i = 0; i < inputs.Length; i++)
                inputs[i] = Wrap(request.Inputs[i]);
            for (var i = 0; i < outputs.Length; i++)
                outputs[i] = Wrap(request.Outputs[i]);
            if (binding is null)
            {
                session.Run(_runOptions, request.Inputs.Select(t => t.Name).ToArray(), inputs,
                    request.Outputs.Select(t => t.Name).ToArray(), outputs);
                return;
            }
            // Device-resident IO: the lane's input copies must have landed before ONNX Runtime, which
            // runs on streams of its own, reads them.
            request.Stream.Synchronize();
            binding.ClearBoundInputs();
            binding.ClearBoundOutputs();
            for (var i = 0; i < inputs.Length; i++)
                binding.BindInput(request.Inputs[i].Name, inputs[i]);
            for (var i = 0; i < outputs.Length; i++)
                binding.BindOutput(request.Outputs[i].Name, outputs[i]);
            if (graphs is null)
            {
                session.RunWithBinding(_runOptions, binding);
            }
            else
            {
                lock (graphs.Turn)
                    session.RunWithBinding(graphs.For(request), binding);
            }
            // The run returned once its streams were done (SynchronizedRuns): the outputs are written. No
            // SynchronizeBoundOutputs, which would wait for every lane's work on the device.
        }
        finally
        {
            foreach (var value in inputs) value?.Dispose();
            foreach (var value in outputs) value?.Dispose();
        }
    }

    internal OrtIoBinding? CreateBinding(int session) => Device.SharesHostMemory ? null : _sessions[session].Session.CreateIoBinding();

    private OrtValue Wrap(TensorBuffer tensor) =>
        OrtValue.CreateTensorValueWithData(_ioMemory, ToOrt(tensor.ElementType), tensor.Shape, tensor.Data, tensor.Bytes);

    private static TensorInfo ToTensorInfo(string name, NodeMetadata metadata)
    {
        if (!metadata.IsTensor)
            return new TensorInfo(name, TensorElementType.Unsupported, [], []) { TypeName = metadata.OnnxValueType.ToString() };
        var (type, typeName) = FromOrt(metadata.ElementDataType);
        var shape = metadata.Dimensions.Select(d => d > 0 ? (long)d : -1).ToArray();
        var names = metadata.SymbolicDimensions.Select(s => string.IsNullOrEmpty(s) ? null : s).ToArray();
        return new TensorInfo(name, type, shape, names) { TypeName = typeName };
    }

    /// <summary>ONNX Runtime's element types that ML.NET columns can feed, both ways.</summary>
    private static readonly (OrtElementType Ort, TensorElementType Ours)[] ElementTypes =
    [
        (OrtElementType.Float, TensorElementType.Float32), (OrtElementType.Double, TensorElementType.Float64),
        (OrtElementType.Int32, TensorElementType.Int32), (OrtElementType.Int64, TensorElementType.Int64),
        (OrtElementType.Bool, TensorElementType.Bool), (OrtElementType.UInt8, TensorElementType.UInt8),
        (OrtElementType.Float16, TensorElementType.Float16), (OrtElementType.BFloat16, TensorElementType.BFloat16),
    ];

    private static (TensorElementType, string) FromOrt(OrtElementType type) =>
        ElementTypes.FirstOrDefault(t => t.Ort == type) is { Ort: var ort, Ours: var ours } && ort == type
            ? (ours, ours.OnnxName())
            : (TensorElementType.Unsupported, type.ToString().ToLowerInvariant());

    private static OrtElementType ToOrt(TensorElementType type) =>
        ElementTypes.FirstOrDefault(t => t.Ours == type) is { Ours: var ours, Ort: var ort } && ours == type
            ? ort
            : throw new NotSupportedException($"Tensors of type {type} cannot be fed to ONNX Runtime from ML.NET columns.");

    public void Dispose()
    {
        _runOptions.Dispose();
        if (!Device.SharesHostMemory) _ioMemory.Dispose();
        foreach (var session in _sessions)
            session.Dispose();
        _deviceUse.Dispose();
    }
}

/// <summary>
/// An ONNX Runtime "context": the sessions are shared, so a context is only what one execution at a
/// time may own, an IO binding per session on a GPU. It holds no device memory of its own that can be known.
/// </summary>
internal sealed class OnnxRuntimeContext : IEngineContext
{
    private readonly OnnxRuntimeEngine _engine;
    private readonly OrtIoBinding?[] _bindings;

    public OnnxRuntimeContext(OnnxRuntimeEngine engine)
    {
        _engine = engine;
        _bindings = new OrtIoBinding?[engine.SessionCount];
        try
        {
            for (var i = 0; i < _bindings.Length; i++)
                _bindings[i] = engine.CreateBinding(i);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public int Profile => 0;

    public long? PersistentBytes => null;

    public OrtIoBinding? BindingFor(int session) => _bindings[session];

    public void Enqueue(ExecutionRequest request) => _engine.Run(request, this);

    public void Dispose()
    {
        foreach (var binding in _bindings)
            binding?.Dispose();
    }
}
