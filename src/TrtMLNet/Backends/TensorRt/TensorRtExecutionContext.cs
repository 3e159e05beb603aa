using TrtMLNet.Device;
using TrtMLNet.Native.TensorRt;

namespace TrtMLNet.Backends.TensorRt;

/// <summary>
/// A TensorRT execution context (kUSER_MANAGED) on one optimization profile. Each
/// <see cref="Enqueue"/> sets the input shapes that changed, hands TensorRT the caller's scratch,
/// binds every IO tensor and queues the inference on the caller's stream.
/// </summary>
/// <remarks>
/// Not thread-safe, as TensorRT's IExecutionContext is not. The execution layer's contract makes that
/// enough, and this class relies on it in two places: a context is rented by one lane for one batch
/// and returned only once that batch's work on the lane's stream has completed (<c>ContextPool</c>,
/// <c>Lane.Run</c>). So when <see cref="Enqueue"/> runs, TensorRT has finished with everything this
/// context was last given; in particular the buffer for outputs nobody reads may be replaced then.
/// </remarks>
internal sealed class TensorRtExecutionContext : IEngineContext
{
    private const long Alignment = 256;

    private readonly TensorRtEngine _engine;
    private readonly ShimContextHandle _handle;
    private readonly long _persistentBytes;

    // Per engine input: the shape TensorRT was last given (null: unknown, set it again).
    private readonly long[]?[] _inputShapes;

    // Per engine output: its shape as TensorRT resolves it from _inputShapes (null: not read since they changed).
    private readonly long[]?[] _outputShapes;

    // updateDeviceMemorySizeForShapes for _inputShapes; -1 until asked.
    private long _scratchForShapes = -1;

    // Per request, reused: which inputs were given and which outputs are read.
    private readonly bool[] _inputGiven;
    private readonly bool[] _outputRead;

    // Per engine output: bytes at the profile's largest input shapes (-1: data-dependent); read on first need.
    private long[]? _maxOutputBytes;

    // Where outputs nobody reads are written, one slice each; allocated on first need.
    private DeviceBuffer? _discard;
    private bool _disposed;

    internal TensorRtExecutionContext(TensorRtEngine engine, ShimContextHandle handle, long persistentBytes)
    {
        _engine = engine;
        _handle = handle;
        _persistentBytes = persistentBytes;
        _inputShapes = new long[]?[engine.InputTensors.Length];
        _outputShapes = new long[]?[engine.OutputTensors.Length];
        _inputGiven = new bool[engine.InputTensors.Length];
        _outputRead = new bool[engine.OutputTensors.Length];
    }

    public int Profile => _handle.Profile;

    /// <summary>
    /// What the context's creation allocated through the runtime (measured by the shim: TensorRT
    /// states no persistent size), plus the buffer it keeps for outputs nobody reads once it has one.
    /// </summary>
    public long? PersistentBytes => _persistentBytes + (_discard?.Bytes ?? 0);

    /// <summary>Bytes of the buffer that takes outputs nobody reads (0 until an execution needed one).</summary>
    internal long DiscardBytes => _discard?.Bytes ?? 0;

    public void Enqueue(ExecutionRequest request)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(request);
        MarkRequested(request);
        var anyUnread = Array.IndexOf(_outputRead, false) >= 0;
        // Sizing the buffer for unread outputs sets the profile's largest shapes, so it comes before the
        // request's shapes are set (and only while it has not been sized yet).
        if (anyUnread)
            EnsureDiscard();

        foreach (var input in request.Inputs)
            SetShapeIfChanged(_engine.InputIndex(input.Name), input.Shape);
        foreach (var output in request.Outputs)
            CheckOutput(_engine.OutputIndex(output.Name), output);

        GiveScratch(request);

        foreach (var input in request.Inputs)
            _handle.SetTensorAddress(input.Name, input.Data);
        foreach (var output in request.Outputs)
            _handle.SetTensorAddress(output.Name, output.Data);
        if (anyUnread)
            BindUnreadOutputs();

        _handle.Enqueue(request.Stream.Handle);
    }

    /// <summary>Matches the request to the engine's tensors: every input once, outputs the engine has, types as the engine's.</summary>
    private void MarkRequested(ExecutionRequest request)
    {
        Mark(request.Inputs, "input", _engine.InputIndex, _engine.Inputs, _engine.InputTensors, _inputGiven);
        if (Array.IndexOf(_inputGiven, false) >= 0)
            throw new ArgumentException(
                $"TensorRT needs every input; missing: {TensorRtEngine.Names(_engine.InputTensors.Where((_, i) => !_inputGiven[i]))}.", nameof(request));
        Mark(request.Outputs, "output", _engine.OutputIndex, _engine.Outputs, _engine.OutputTensors, _outputRead);
    }

    private static void Mark(TensorBuffer[] buffers, string what, Func<string, int> indexOf, IReadOnlyList<TensorInfo> infos,
        ShimTensorDescription[] tensors, bool[] marked)
    {
        Array.Clear(marked);
        foreach (var buffer in buffers)
        {
            var index = indexOf(buffer.Name);
            if (index < 0)
                throw new ArgumentException($"'{buffer.Name}' is not an {what} of the TensorRT engine; its {what}s are {TensorRtEngine.Names(tensors)}.");
            if (marked[index])
                throw new ArgumentException($"The {what} '{buffer.Name}' is given twice.");
            marked[index] = true;
            CheckType(what, buffer, infos[index]);
        }
    }

    private static void CheckType(string what, TensorBuffer buffer, TensorInfo tensor)
    {
        if (buffer.ElementType != tensor.ElementType)
            throw new ArgumentException(
                $"The {what} '{buffer.Name}' is given as {buffer.ElementType.OnnxName()}, but the TensorRT engine's is {tensor.TypeName}.");
    }

    /// <summary>
    /// setInputShape only when the shape differs from the one TensorRT has: contexts are usually fed
    /// the same batch shape again and again, and a shape change makes TensorRT redo its shape work.
    /// </summary>
    private void SetShapeIfChanged(int index, long[] shape)
    {
        if (_inputShapes[index] is { } current && current.AsSpan().SequenceEqual(shape))
            return;
        // Forget first: if TensorRT refuses the shape, what it holds now is not known.
        _inputShapes[index] = null;
        Array.Clear(_outputShapes);
        _scratchForShapes = -1;
        _handle.SetInputShape(_engine.InputTensors[index].Name, shape);
        _inputShapes[index] = shape.ToArray();
    }

    /// <summary>
    /// An output buffer must be exactly what TensorRT writes for these inputs: a smaller one would be
    /// overrun on the device, a differently shaped one read back as the wrong values. Checked against
    /// TensorRT's own shape inference, read once per change of input shapes.
    /// </summary>
    private void CheckOutput(int index, TensorBuffer output)
    {
        var tensor = _engine.OutputTensors[index];
        var shape = _outputShapes[index] ??= _handle.TensorShape(tensor.Name);
        if (TensorRtDataTypes.Volume(shape) is not { } volume)
            throw new NotSupportedException(
                $"The TensorRT engine's output '{tensor.Name}' has a shape that depends on the input values ({TensorInfo.FormatShape(shape)}): " +
                "TrtMLNet binds output buffers before running and cannot read such an output.");
        if (!shape.AsSpan().SequenceEqual(output.Shape))
            throw new ArgumentException(
                $"For these inputs TensorRT computes output '{tensor.Name}' as {TensorInfo.FormatShape(shape)}, but its buffer is laid out as " +
                    $"{TensorInfo.FormatShape(output.Shape)}.");
        var bytes = TensorRtDataTypes.Bytes(tensor.DataType, volume);
        if (output.Bytes < bytes)
            throw new ArgumentException(
                $"Output '{tensor.Name}' {TensorInfo.FormatShape(shape)} takes {bytes} bytes, but its buffer holds {output.Bytes}.");
    }

    /// <summary>
    /// Gives TensorRT the caller's scratch for this execution (setDeviceMemoryV2). The memory model
    /// relies here on the scratch arena's invariant (Execution/ScratchArena.cs): the slab in the request
    /// serves this execution alone from now until the lane's stream passes the fence placed right after
    /// this enqueue, because every other user of the slab waits for that fence on its own stream first.
    /// TensorRT uses the memory from enqueueV3 until the stream completes that work, which the fence
    /// covers; nothing here may keep or reuse the pointer beyond this execution.
    /// </summary>
    private void GiveScratch(ExecutionRequest request)
    {
        var need = _engine.ScratchNeed(Profile);
        if (request.ScratchBytes < need)
        {
            // The profile's figure is an upper bound over all its shapes; a smaller slab may still hold
            // what these shapes need, which only TensorRT can say.
            if (_scratchForShapes < 0)
                _scratchForShapes = _handle.ScratchSizeForShapes();
            need = _scratchForShapes;
        }
        if (request.ScratchBytes < need || (need > 0 && request.Scratch == IntPtr.Zero))
            throw new InvalidOperationException(
                $"The TensorRT engine needs {Bytes.Format(need)} of scratch for optimization profile {Profile} at input shapes " +
                $"{string.Join(", ", _engine.InputTensors.Select((t, i) => $"'{t.Name}' {TensorInfo.FormatShape(_inputShapes[i] ?? t.Shape)}"))}, " +
                $"but the execution was given {(request.Scratch == IntPtr.Zero ? "none" : Bytes.Format(request.ScratchBytes))}: the scratch arena was not sized for this engine.");
        _handle.SetScratch(request.Scratch, request.ScratchBytes);
    }

    /// <summary>
    /// Makes room for the outputs nobody reads. TensorRT writes every output, so each needs an address;
    /// each gets its own slice rather than all sharing one, because TensorRT may read an output back as
    /// the input of a later layer, and outputs sharing memory could then corrupt one that is read. The
    /// slices hold each output at the profile's largest input shapes, so the buffer fits every batch.
    /// </summary>
    private void EnsureDiscard()
    {
        _maxOutputBytes ??= MaxOutputBytes();
        long needed = 0;
        for (var i = 0; i < _outputRead.Length; i++)
        {
            if (_outputRead[i])
                continue;
            if (_maxOutputBytes[i] < 0)
                throw new NotSupportedException(
                    $"The TensorRT engine's output '{_engine.OutputTensors[i].Name}' has a shape that depends on the input values, so no buffer " +
                    "can be sized for it in advance; TensorRT writes every output, so TrtMLNet cannot run this engine.");
            needed = checked(needed + AlignUp(_maxOutputBytes[i]));
        }
        if (_discard is not null && _discard.Bytes >= needed)
            return;
        // Safe to free now: the context's last execution has completed (see the class remarks).
        _discard?.Dispose();
        _discard = null;
        _discard = _engine.Device.AllocateDevice(Math.Max(needed, Alignment), $"outputs nobody reads (TensorRT context on profile {Profile})");
    }

    /// <summary>Every output's size at the profile's largest shapes, from TensorRT's shape inference on this context.</summary>
    private long[] MaxOutputBytes()
    {
        var profile = _engine.Profiles[Profile];
        for (var i = 0; i < _engine.InputTensors.Length; i++)
            SetShapeIfChanged(i, profile.Shapes[_engine.InputTensors[i].Name].Max);
        var bytes = new long[_engine.OutputTensors.Length];
        for (var i = 0; i < bytes.Length; i++)
        {
            var tensor = _engine.OutputTensors[i];
            var shape = _outputShapes[i] ??= _handle.TensorShape(tensor.Name);
            bytes[i] = TensorRtDataTypes.Volume(shape) is { } volume ? TensorRtDataTypes.Bytes(tensor.DataType, volume) : -1;
        }
        return bytes;
    }

    private void BindUnreadOutputs()
    {
        var offset = 0L;
        for (var i = 0; i < _outputRead.Length; i++)
        {
            if (_outputRead[i])
                continue;
            _handle.SetTensorAddress(_engine.OutputTensors[i].Name, _discard!.Pointer + (nint)offset);
            offset += AlignUp(_maxOutputBytes![i]);
        }
    }

    private static long AlignUp(long bytes) => (bytes + Alignment - 1) & ~(Alignment - 1);

    /// <summary>Call only once the context's last execution has completed (the execution layer does).</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _handle.Dispose();
        _discard?.Dispose();
        _discard = null;
    }
}
