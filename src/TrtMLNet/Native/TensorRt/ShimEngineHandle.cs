using System.Runtime.InteropServices;

namespace TrtMLNet.Native.TensorRt;

/// <summary>One IO tensor of an engine as TensorRT describes it; -1 marks a dimension fixed only at run time.</summary>
internal sealed record ShimTensorDescription(
    string Name, ShimIoMode IoMode, ShimDataType DataType, bool IsLinear, bool OnDevice, long[] Shape)
{
    public bool IsInput => IoMode == ShimIoMode.Input;

    public bool IsDynamic => Array.IndexOf(Shape, -1L) >= 0;

    public override string ToString() => $"{IoMode} '{Name}' {DataType}[{string.Join(",", Shape)}]";
}

/// <summary>
/// A deserialized engine (trts_engine): what its IO looks like and how much memory it needs. Contexts
/// keep their engine alive inside the shim, so disposing this handle while contexts live is safe.
/// </summary>
internal sealed class ShimEngineHandle : ShimHandle
{
    /// <summary>Every input and output, in TensorRT's order (read once; the engine does not change).</summary>
    public IReadOnlyList<ShimTensorDescription> IoTensors()
    {
        var count = ShimStatusCheck.NonNegative(ShimNative.trts_engine_io_count(this), "Counting the engine's IO tensors");
        var tensors = new ShimTensorDescription[count];
        for (var i = 0; i < count; i++)
        {
            var status = ShimNative.trts_engine_io_tensor(this, i, out var desc);
            ShimStatusCheck.ThrowIfFailed(status, $"Reading IO tensor {i} of {count} of the engine");
            // The name points into the engine, which this handle keeps alive during the call.
            var name = Marshal.PtrToStringUTF8(desc.Name) ?? "";
            tensors[i] = new ShimTensorDescription(
                name, desc.IoMode, desc.DataType, desc.IsLinear != 0, desc.OnDevice != 0, desc.Shape.ToArray());
        }
        return tensors;
    }

    /// <summary>How many optimization profiles the engine was built with (at least one).</summary>
    public int ProfileCount
    {
        get => ShimStatusCheck.NonNegative(ShimNative.trts_engine_profile_count(this), "Counting the engine's optimization profiles");
    }

    /// <summary>One bound of an input's range in one optimization profile.</summary>
    public long[] ProfileShape(string inputName, int profile, ShimProfileSelector selector)
    {
        var status = ShimNative.trts_engine_profile_shape(this, inputName, profile, selector, out var dims);
        ShimStatusCheck.ThrowIfFailed(status, $"Reading the {selector} shape of input '{inputName}' in optimization profile {profile}");
        return dims.ToArray();
    }

    /// <summary>An input's whole range in one optimization profile.</summary>
    public (long[] Min, long[] Opt, long[] Max) ProfileShapes(string inputName, int profile) =>
        (ProfileShape(inputName, profile, ShimProfileSelector.Min),
         ProfileShape(inputName, profile, ShimProfileSelector.Opt),
         ProfileShape(inputName, profile, ShimProfileSelector.Max));

    /// <summary>
    /// Scratch (activation) bytes a context on this profile needs at most; the shared scratch arena is
    /// sized from the largest of these over all engines on a device.
    /// </summary>
    public long ScratchSize(int profile)
    {
        var status = ShimNative.trts_engine_scratch_size(this, profile, out var bytes);
        ShimStatusCheck.ThrowIfFailed(status, $"Reading the scratch size of optimization profile {profile}");
        return bytes;
    }

    /// <summary>
    /// Weights as TensorRT states them (null before TensorRT 10.14, which has no query) and as the
    /// runtime's allocator measured them while the plan loaded; the memory report shows both.
    /// </summary>
    public (long? Stated, long Measured) WeightsSize()
    {
        var status = ShimNative.trts_engine_weights_size(this, out var stated, out var measured);
        ShimStatusCheck.ThrowIfFailed(status, "Reading the engine's weights size");
        return (stated >= 0 ? stated : null, measured);
    }

    /// <summary>
    /// A context that uses scratch memory the caller supplies (<see cref="ShimContextHandle.SetScratch"/>),
    /// on the given profile. Selecting a profile other than 0 runs work on <paramref name="stream"/>,
    /// which is synchronized before this returns. <paramref name="persistentBytes"/> is the device
    /// memory the context took for itself, which stays allocated as long as it lives.
    /// </summary>
    public ShimContextHandle CreateContext(int profile, IntPtr stream, out long persistentBytes)
    {
        var status = ShimNative.trts_context_create(this, profile, stream, out var context, out persistentBytes);
        if (status != TensorRtErrorCode.Ok)
        {
            var failure = ShimStatusCheck.Failure(status, $"Creating an execution context on optimization profile {profile}");
            context.Dispose();
            throw failure;
        }
        context.Profile = profile;
        return context;
    }

    protected override bool ReleaseHandle()
    {
        ShimNative.trts_engine_release(handle);
        return true;
    }
}
