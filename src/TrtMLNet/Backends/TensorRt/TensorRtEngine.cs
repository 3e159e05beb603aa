using TrtMLNet.Device;
using TrtMLNet.Native.TensorRt;

namespace TrtMLNet.Backends.TensorRt;

/// <summary>
/// A deserialized TensorRT engine on one GPU, through the native shim. Its weights are on the device
/// once; every context made from it (<see cref="TensorRtExecutionContext"/>) is kUSER_MANAGED, so it
/// holds only its persistent memory and takes scratch from the caller for each execution: that is
/// what lets the device's shared scratch arena serve every engine and context on a GPU.
/// </summary>
/// <remarks>
/// Ownership: the engine owns its runtime and engine handles and releases the engine's before the
/// runtime's. Contexts belong to whoever created them and are disposed before the engine by the
/// execution layer (<c>ModelRuntime.Release</c>); the shim counts references besides (a context keeps
/// its engine, an engine its runtime), so a context outliving this object stays valid and a finalizer
/// releasing handles in another order cannot free an engine under a live context.
/// </remarks>
internal sealed class TensorRtEngine : IInferenceEngine
{
    private readonly ShimRuntimeHandle _runtime;
    private readonly ShimEngineHandle _engine;
    private readonly long[] _scratchByProfile;
    private readonly Dictionary<string, int> _inputIndex = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _outputIndex = new(StringComparer.Ordinal);
    private readonly IDisposable _deviceUse;
    private volatile bool _disposed;

    private TensorRtEngine(
        ShimRuntimeHandle runtime,
        ShimEngineHandle engine,
        ComputeDevice device,
        ShimInfo shim,
        ShimTensorDescription[] inputs,
        ShimTensorDescription[] outputs,
        IReadOnlyList<EngineProfile> profiles,
        long[] scratchByProfile,
        EngineWeights weights,
        IDisposable deviceUse)
    {
        _deviceUse = deviceUse;
        _runtime = runtime;
        _engine = engine;
        Device = device;
        Shim = shim;
        InputTensors = inputs;
        OutputTensors = outputs;
        Inputs = inputs.Select(ToTensorInfo).ToArray();
        Outputs = outputs.Select(ToTensorInfo).ToArray();
        for (var i = 0; i < inputs.Length; i++)
            _inputIndex[inputs[i].Name] = i;
        for (var i = 0; i < outputs.Length; i++)
            _outputIndex[outputs[i].Name] = i;
        Profiles = profiles;
        _scratchByProfile = scratchByProfile;
        Weights = weights;
        Description = $"TensorRT {shim.LoadedTensorRt.ToString(2)} on {device.Name}";
        ContextsNeedOwnProfile = inputs.Any(i => i.IsDynamic);
    }

    public TensorRtBackend Backend => TensorRtBackend.TensorRt;

    public string Description { get; }


    public IReadOnlyList<TensorInfo> Inputs { get; }

    public IReadOnlyList<TensorInfo> Outputs { get; }

    public IReadOnlyList<EngineProfile> Profiles { get; }

    public EngineWeights Weights { get; }

    /// <summary>Optimization profiles take any batch in their range without tuning again.</summary>
    public IReadOnlyList<int>? TunedBatchSizes => null;

    public bool UsesCallerScratch => true;

    public ComputeDevice Device { get; }

    /// <summary>True when an input has dynamic dimensions: TensorRT then wants one profile per context in concurrent use.</summary>
    public bool ContextsNeedOwnProfile { get; }

    internal ShimInfo Shim { get; }

    /// <summary>The inputs as TensorRT describes them, in TensorRT's order; contexts index their state by it.</summary>
    internal ShimTensorDescription[] InputTensors { get; }

    internal ShimTensorDescription[] OutputTensors { get; }

    /// <summary>
    /// Deserializes a plan on <paramref name="device"/> (whose context is made current first: the shim
    /// binds its runtime to the current context) and reads what the execution layer needs to know.
    /// A plan TensorRT rejects surfaces as the <see cref="TensorRtException"/> it caused, or as what
    /// <paramref name="rejected"/> makes of it (callers know where the plan came from; this does not).
    /// </summary>
    public static TensorRtEngine Load(
        ReadOnlySpan<byte> plan, ComputeDevice device, ShimInfo shim, Func<TensorRtException, Exception>? rejected = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(shim);
        device.MakeCurrent();
        var use = device.BeginUse();
        ShimRuntimeHandle? runtime = null;
        ShimEngineHandle? engine = null;
        try
        {
            runtime = ShimRuntimeHandle.Create();
            try
            {
                engine = runtime.DeserializeEngine(plan);
            }
            catch (TensorRtException e) when (rejected is not null)
            {
                var mapped = rejected(e);
                if (ReferenceEquals(mapped, e))
                    throw;
                throw mapped;
            }
            var tensors = engine.IoTensors();
            foreach (var tensor in tensors)
                CheckBindable(tensor);
            var inputs = tensors.Where(t => t.IoMode == ShimIoMode.Input).ToArray();
            var outputs = tensors.Where(t => t.IoMode == ShimIoMode.Output).ToArray();
            var profileCount = engine.ProfileCount;
            var profiles = new EngineProfile[profileCount];
            var scratch = new long[profileCount];
            for (var p = 0; p < profileCount; p++)
            {
                profiles[p] = ReadProfile(engine, inputs, p);
                scratch[p] = engine.ScratchSize(p);
            }
            var (stated, measured) = engine.WeightsSize();
            return new TensorRtEngine(runtime, engine, device, shim, inputs, outputs, profiles, scratch, new EngineWeights(stated, measured), use);
        }
        catch
        {
            // The engine's handle before the runtime's, as on Dispose.
            engine?.Dispose();
            runtime?.Dispose();
            use.Dispose();
            throw;
        }
    }

    /// <summary>TrtMLNet binds every tensor to plain device memory, row after row; anything else would be read or written wrongly.</summary>
    private static void CheckBindable(ShimTensorDescription tensor)
    {
        var what = tensor.IoMode switch
        {
            ShimIoMode.Input => "input",
            ShimIoMode.Output => "output",
            _ => throw new NotSupportedException($"The TensorRT engine's tensor '{tensor.Name}' is neither an input nor an output (TensorIOMode {tensor.IoMode})."),
        };
        if (!tensor.OnDevice)
            throw new NotSupportedException(
                $"The TensorRT engine's {what} '{tensor.Name}' lives in host memory (a shape tensor, whose values set other tensors' shapes): " +
                "TrtMLNet feeds every tensor from device memory and cannot run such an engine. Export the model with that value fixed, or run it on an ONNX Runtime backend.");
        if (!tensor.IsLinear)
            throw new NotSupportedException(
                $"The TensorRT engine's {what} '{tensor.Name}' has a vectorized (non-linear) format: TrtMLNet reads and writes tensors in the linear " +
                "row-major layout ONNX uses. Build the engine without IO format constraints (the default, and how TrtMLNet builds engines).");
    }

    /// <summary>
    /// One profile's range for every input. Only dynamic inputs are asked for: a static input's range
    /// is its shape, and what getProfileShape answers for an input no profile had to mention is not
    /// documented.
    /// </summary>
    private static EngineProfile ReadProfile(ShimEngineHandle engine, ShimTensorDescription[] inputs, int profile)
    {
        var shapes = new Dictionary<string, (long[] Min, long[] Opt, long[] Max)>(StringComparer.Ordinal);
        foreach (var input in inputs)
            shapes[input.Name] = input.IsDynamic ? engine.ProfileShapes(input.Name, profile) : (input.Shape, input.Shape, input.Shape);
        return new EngineProfile(profile, shapes);
    }

    private static TensorInfo ToTensorInfo(ShimTensorDescription tensor)
    {
        var (type, name) = TensorRtDataTypes.ToElementType(tensor.DataType);
        // TensorRT keeps no symbolic dimension names; shapes it leaves open are resolved by InferOutputShapes.
        return new TensorInfo(tensor.Name, type, tensor.Shape, new string?[tensor.Shape.Length]) { TypeName = name };
    }

    public long? ScratchBytes(int profile)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(profile);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(profile, _scratchByProfile.Length);
        return _scratchByProfile[profile];
    }

    /// <summary>Scratch bytes a profile needs at most (getDeviceMemorySizeForProfileV2), read once at load.</summary>
    internal long ScratchNeed(int profile) => _scratchByProfile[profile];

    internal int InputIndex(string name) => _inputIndex.TryGetValue(name, out var index) ? index : -1;

    internal int OutputIndex(string name) => _outputIndex.TryGetValue(name, out var index) ? index : -1;

    /// <summary>
    /// A kUSER_MANAGED context on <paramref name="profile"/>. Selecting a profile other than 0 runs
    /// work on <paramref name="stream"/>, which the shim synchronizes before returning.
    /// </summary>
    public IEngineContext CreateContext(int profile, DeviceStream stream)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        CheckProfile(profile);
        var handle = _engine.CreateContext(profile, stream.Handle, out var persistent);
        return new TensorRtExecutionContext(this, handle, persistent);
    }

    /// <summary>
    /// TensorRT resolves output shapes from input shapes without running anything: set them on a
    /// context of a profile that accepts them and read the outputs back. A temporary context does it,
    /// so that no pooled context's state (and no caller's scratch) is involved; it costs its persistent
    /// memory only while this call runs. An output whose shape depends on the input values stays -1.
    /// </summary>
    public IReadOnlyDictionary<string, long[]> InferOutputShapes(IReadOnlyDictionary<string, long[]> inputShapes)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(inputShapes);
        foreach (var name in inputShapes.Keys)
            if (InputIndex(name) < 0)
                throw new ArgumentException($"'{name}' is not an input of the TensorRT engine; its inputs are {Names(InputTensors)}.", nameof(inputShapes));
        var missing = InputTensors.Where(t => !inputShapes.ContainsKey(t.Name)).ToList();
        if (missing.Count > 0)
            throw new ArgumentException($"Output shapes depend on every input's shape; none was given for {Names(missing)}.", nameof(inputShapes));

        var profile = Profiles.FirstOrDefault(p => p.Accepts(inputShapes))
            ?? throw new ArgumentException(
                $"No optimization profile of the TensorRT engine accepts the input shapes {FormatShapes(inputShapes)}; its profiles are {DescribeProfiles()}.",
                nameof(inputShapes));
        using var context = _engine.CreateContext(profile.Index, IntPtr.Zero, out _);
        foreach (var input in InputTensors)
            context.SetInputShape(input.Name, inputShapes[input.Name]);
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var output in OutputTensors)
            shapes[output.Name] = context.TensorShape(output.Name);
        return shapes;
    }

    internal void CheckProfile(int profile)
    {
        if (profile < 0 || profile >= Profiles.Count)
            throw new ArgumentOutOfRangeException(nameof(profile), profile,
                $"The TensorRT engine has {Profiles.Count} optimization profile(s) (0..{Profiles.Count - 1}).");
    }

    internal string DescribeProfiles() =>
        string.Join("; ", Profiles.Select(p => $"{p.Index}: " + string.Join(", ", p.Shapes.Select(s =>
            $"'{s.Key}' {TensorInfo.FormatShape(s.Value.Min)}..{TensorInfo.FormatShape(s.Value.Max)}"))));

    internal static string Names(IEnumerable<ShimTensorDescription> tensors) => string.Join(", ", tensors.Select(t => $"'{t.Name}'"));

    private static string FormatShapes(IReadOnlyDictionary<string, long[]> shapes) =>
        string.Join(", ", shapes.Select(s => $"'{s.Key}' {TensorInfo.FormatShape(s.Value)}"));

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        // The shim frees an engine only once the contexts holding it are gone, and a runtime only once
        // its engines are: releasing .NET's references here never pulls memory from under a context.
        _engine.Dispose();
        _runtime.Dispose();
        _deviceUse.Dispose();
    }

    public override string ToString() => Description;
}
