using System.Runtime.InteropServices;

namespace TrtMLNet.Native.TensorRt;

/// <summary>
/// An execution context (trts_context) with user-managed scratch. The per-batch calls (input shapes,
/// addresses, enqueue) build their error text only on failure, so the success path allocates nothing
/// beyond the marshaller's stack buffer for the UTF-8 tensor name.
/// </summary>
/// <remarks>
/// Not thread-safe, as TensorRT's IExecutionContext is not: one lane uses a context at a time.
/// </remarks>
internal sealed class ShimContextHandle : ShimHandle
{
    /// <summary>The optimization profile the context was created on; it never changes.</summary>
    public int Profile { get; internal set; }

    /// <summary>
    /// The scratch the next enqueue uses (setDeviceMemoryV2). It must stay untouched by anything else
    /// until that enqueue's work on its stream has completed: a slab serves one execution in flight.
    /// </summary>
    public void SetScratch(IntPtr memory, long size)
    {
        var status = ShimNative.trts_context_set_scratch(this, memory, size);
        if (status != TensorRtErrorCode.Ok)
            throw ShimStatusCheck.Failure(status, $"Giving the execution context {size} bytes of scratch memory");
    }

    public void SetInputShape(string inputName, ReadOnlySpan<long> shape)
    {
        var dims = ShimDims.From(shape, inputName);
        var status = ShimNative.trts_context_set_input_shape(this, inputName, in dims);
        if (status != TensorRtErrorCode.Ok)
            throw ShimStatusCheck.Failure(status, $"Setting the shape of input '{inputName}' to [{string.Join(",", shape.ToArray())}]");
    }

    /// <summary>Scratch bytes the shapes set so far need (all inputs must have one); at most the profile's <see cref="ShimEngineHandle.ScratchSize"/>.</summary>
    public long ScratchSizeForShapes()
    {
        var status = ShimNative.trts_context_scratch_size_for_shapes(this, out var bytes);
        ShimStatusCheck.ThrowIfFailed(status, "Computing the scratch size for the input shapes set");
        return bytes;
    }

    /// <summary>A tensor's shape as the context resolves it from the input shapes set (-1 while unknown).</summary>
    public long[] TensorShape(string tensorName)
    {
        var status = ShimNative.trts_context_tensor_shape(this, tensorName, out var dims);
        if (status != TensorRtErrorCode.Ok)
            throw ShimStatusCheck.Failure(status, $"Reading the shape of tensor '{tensorName}'");
        return dims.ToArray();
    }

    /// <summary>Binds a tensor to device memory (256-byte aligned) for the next enqueue.</summary>
    public void SetTensorAddress(string tensorName, IntPtr address)
    {
        var status = ShimNative.trts_context_set_tensor_address(this, tensorName, address);
        if (status != TensorRtErrorCode.Ok)
            throw ShimStatusCheck.Failure(status, $"Binding tensor '{tensorName}' to device address 0x{address:x}");
    }

    /// <summary>Queues the inference on <paramref name="stream"/> and returns; completion is the stream's business.</summary>
    public void Enqueue(IntPtr stream)
    {
        var status = ShimNative.trts_context_enqueue(this, stream);
        if (status != TensorRtErrorCode.Ok)
            throw ShimStatusCheck.Failure(status, $"Enqueueing inference (optimization profile {Profile}) on stream 0x{stream:x}");
    }

    protected override bool ReleaseHandle()
    {
        ShimNative.trts_context_release(handle);
        return true;
    }
}
