using TrtMLNet.Backends;
using TrtMLNet.Device;
using TrtMLNet.Native.Cuda;

namespace TrtMLNet.GpuTests.Support;

/// <summary>
/// An engine that takes device memory the way a TensorRT engine does, for real: weights once (at
/// construction), persistent memory per context (at context creation), and scratch from the caller
/// (kUSER_MANAGED). TensorRT itself cannot be installed on the GPU machine; this engine holds the
/// same kinds of memory in the same places, so the pool's layout and report can be measured against
/// the driver. An execution runs scratch_probe over its scratch (counting any overlap with another
/// execution) and add_one to compute y = x + 1.
/// </summary>
internal sealed class SyntheticCudaEngine : IInferenceEngine
{
    private readonly CudaDevice _device;
    private readonly CudaModule _module;
    private readonly IntPtr _probe;
    private readonly IntPtr _addOne;
    private readonly CudaDeviceMemory _weights;
    private readonly CudaDeviceMemory _violations;
    private readonly long _persistentBytes;
    private readonly long _scratchBytes;
    private readonly IDisposable _deviceUse;
    private long _token;

    public SyntheticCudaEngine(CudaDevice device, int width, long weightsBytes, long persistentBytes, long scratchBytes, long spinCycles = 20_000)
    {
        _device = device;
        // As a real engine does: the device's memory baseline is taken before the weights are allocated.
        _deviceUse = Device.BeginUse();
        device.MakeCurrent();
        _module = device.LoadModule(Gpu.KernelsPtx());
        _probe = _module.GetFunction("scratch_probe");
        _addOne = _module.GetFunction("add_one");
        _weights = device.Allocate(weightsBytes, "synthetic weights");
        _violations = device.Allocate(sizeof(uint), "violation counter");
        using (var stream = device.CreateStream())
        {
            stream.Memset(_violations.Pointer, 0, sizeof(uint));
            stream.Synchronize();
        }
        Width = width;
        SpinCycles = spinCycles;
        _persistentBytes = persistentBytes;
        _scratchBytes = scratchBytes;
        Weights = new EngineWeights(weightsBytes, weightsBytes);
        Inputs = [new TensorInfo("x", TensorElementType.Float32, [-1, width], ["N", null])];
        Outputs = [new TensorInfo("y", TensorElementType.Float32, [-1, width], ["N", null])];
    }

    public int Width { get; }

    public long SpinCycles { get; }

    public TensorRtBackend Backend => TensorRtBackend.TensorRt;

    public string Description => $"synthetic CUDA engine on GPU {_device.Ordinal} ({_device.Name})";

    public ComputeDevice Device => ComputeDevice.Gpu(_device.Ordinal);

    public bool ContextsNeedOwnProfile => false;

    public IReadOnlyList<TensorInfo> Inputs { get; }

    public IReadOnlyList<TensorInfo> Outputs { get; }

    public IReadOnlyList<EngineProfile> Profiles { get; } = [EngineProfile.Unbounded];

    public EngineWeights Weights { get; }

    /// <summary>Optimization profiles take any batch in their range without tuning again.</summary>
    public IReadOnlyList<int>? TunedBatchSizes => null;

    public bool UsesCallerScratch => true;

    public long? ScratchBytes(int profile) => _scratchBytes;

    public IEngineContext CreateContext(int profile, DeviceStream stream) => new Context(this, _device.Allocate(_persistentBytes, "synthetic persistent context memory"));

    public IReadOnlyDictionary<string, long[]> InferOutputShapes(IReadOnlyDictionary<string, long[]> inputShapes) =>
        new Dictionary<string, long[]> { ["y"] = inputShapes["x"] };

    /// <summary>Executions that saw another execution's token in their scratch.</summary>
    public uint Violations()
    {
        _device.MakeCurrent();
        using var host = _device.AllocatePinned(sizeof(uint), "readback");
        using var stream = _device.CreateStream();
        stream.CopyToHost(host.Pointer, _violations.Pointer, sizeof(uint));
        stream.Synchronize();
        return (uint)System.Runtime.InteropServices.Marshal.ReadInt32(host.Pointer);
    }

    public static byte[] Signature(int width) => new Tests.Models.OnnxModelBuilder()
        .Input("x", Tests.Models.OnnxType.Float, "N", width)
        .Node("Identity", ["x"], ["y"])
        .Output("y", Tests.Models.OnnxType.Float, "N", width)
        .Build();

    public void Dispose()
    {
        _device.MakeCurrent();
        _weights.Dispose();
        _violations.Dispose();
        _module.Dispose();
        _deviceUse.Dispose();
    }

    private sealed class Context(SyntheticCudaEngine engine, CudaDeviceMemory persistent) : IEngineContext
    {
        public int Profile => 0;

        public long? PersistentBytes => persistent.Bytes;

        public void Enqueue(ExecutionRequest request)
        {
            var token = (ulong)Interlocked.Increment(ref engine._token);
            // The slab's first 16 MiB is enough to catch an overlap; touching all of it would only slow the test.
            var words = Math.Min(request.ScratchBytes, 16L << 20) / sizeof(ulong);
            Kernels.Launch(engine._probe, request.Stream.Handle, request.Scratch, words, token, engine.SpinCycles, engine._violations.Pointer);
            var input = request.Inputs[0];
            foreach (var output in request.Outputs)
                Kernels.Launch(engine._addOne, request.Stream.Handle, input.Data, output.Data, input.Shape[0] * engine.Width);
        }

        public void Dispose() => persistent.Dispose();
    }
}
