using System.Runtime.InteropServices;

namespace TrtMLNet.Native.TensorRt;

/// <summary>
/// A TensorRT runtime (trts_runtime): deserializes engines, and counts through its GPU allocator the
/// device memory TensorRT takes for weights and persistent context memory, which TensorRT does not
/// state for contexts. Engines keep their runtime alive inside the shim, so disposing this handle
/// while engines live is safe.
/// </summary>
internal sealed class ShimRuntimeHandle : ShimHandle
{
    /// <summary>
    /// Creates a runtime bound to the CUDA context current on the calling thread (make the device's
    /// context current first); the shim makes that context current again for every later call, from
    /// any thread, the finalizer's included.
    /// </summary>
    public static ShimRuntimeHandle Create()
    {
        var status = ShimNative.trts_runtime_create(out var runtime);
        if (status != TensorRtErrorCode.Ok)
        {
            var failure = ShimStatusCheck.Failure(status, "Creating a TensorRT runtime");
            runtime.Dispose();
            throw failure;
        }
        return runtime;
    }

    /// <summary>Device bytes TensorRT currently holds through this runtime's allocator.</summary>
    public long AllocatedBytes
    {
        get => ShimStatusCheck.NonNegative(ShimNative.trts_runtime_allocated_bytes(this), "Reading the TensorRT runtime's allocated bytes");
    }

    /// <summary>Loads a serialized plan. A plan loads only into the TensorRT version and GPU it was built for.</summary>
    public unsafe ShimEngineHandle DeserializeEngine(ReadOnlySpan<byte> plan)
    {
        TensorRtErrorCode status;
        ShimEngineHandle engine;
        fixed (byte* bytes = plan)
            status = ShimNative.trts_engine_deserialize(this, bytes, (nuint)plan.Length, out engine);
        if (status != TensorRtErrorCode.Ok)
        {
            var failure = ShimStatusCheck.Failure(status, $"Deserializing a TensorRT plan of {plan.Length} bytes");
            engine.Dispose();
            throw failure;
        }
        return engine;
    }

    protected override bool ReleaseHandle()
    {
        ShimNative.trts_runtime_release(handle);
        return true;
    }
}
