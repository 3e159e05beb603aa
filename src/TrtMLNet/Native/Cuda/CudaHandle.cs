using System.Runtime.InteropServices;

namespace TrtMLNet.Native.Cuda;

/// <summary>
/// Base of every CUDA object handle: remembers the context it was made in, because release may run
/// on a finalizer or another lane's thread where no context, or another, is current.
/// </summary>
internal abstract class CudaHandle : SafeHandle
{
    protected CudaHandle(IntPtr handle, IntPtr context, bool ownsHandle = true)
        : base(IntPtr.Zero, ownsHandle)
    {
        SetHandle(handle);
        Context = context;
    }

    protected IntPtr Context { get; }

    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>The raw handle for driver calls; valid while this object is alive.</summary>
    public IntPtr Pointer => handle;

    protected sealed override bool ReleaseHandle()
    {
        // Errors cannot be reported from here; at process exit the driver may already be gone
        // (CUDA_ERROR_DEINITIALIZED), which is harmless.
        CudaDriverApi.cuCtxSetCurrent(Context);
        return Release(handle) == CudaError.Success;
    }

    protected abstract CudaError Release(IntPtr value);
}

/// <summary>Device memory from cuMemAlloc.</summary>
internal sealed class CudaDeviceMemory(IntPtr pointer, long bytes, IntPtr context) : CudaHandle(pointer, context)
{
    public long Bytes { get; } = bytes;

    protected override CudaError Release(IntPtr value) => CudaDriverApi.cuMemFree(value);
}

/// <summary>Page-locked host memory from cuMemHostAlloc: the only host memory async copies overlap with.</summary>
internal sealed class CudaPinnedMemory(IntPtr pointer, long bytes, IntPtr context) : CudaHandle(pointer, context)
{
    public long Bytes { get; } = bytes;

    protected override CudaError Release(IntPtr value) => CudaDriverApi.cuMemFreeHost(value);
}

internal sealed class CudaStream(IntPtr stream, IntPtr context, bool ownsHandle = true) : CudaHandle(stream, context, ownsHandle)
{
    /// <summary>A stream that belongs to someone else (a caller's): used for ordering, never destroyed here.</summary>
    public static CudaStream Borrow(IntPtr stream, IntPtr context) => new(stream, context, ownsHandle: false);

    public void Synchronize() =>
        CudaCheck.ThrowIfFailed(CudaDriverApi.cuStreamSynchronize(Pointer), "cuStreamSynchronize");

    public void Wait(CudaEvent cudaEvent) =>
        CudaCheck.ThrowIfFailed(CudaDriverApi.cuStreamWaitEvent(Pointer, cudaEvent.Pointer, 0), "cuStreamWaitEvent");

    public void CopyToDevice(IntPtr destination, IntPtr source, long bytes) =>
        CudaCheck.ThrowIfFailed(CudaDriverApi.cuMemcpyHtoDAsync(destination, source, (nuint)bytes, Pointer), "cuMemcpyHtoDAsync");

    public void CopyToHost(IntPtr destination, IntPtr source, long bytes) =>
        CudaCheck.ThrowIfFailed(CudaDriverApi.cuMemcpyDtoHAsync(destination, source, (nuint)bytes, Pointer), "cuMemcpyDtoHAsync");

    public void CopyDeviceToDevice(IntPtr destination, IntPtr source, long bytes) =>
        CudaCheck.ThrowIfFailed(CudaDriverApi.cuMemcpyDtoDAsync(destination, source, (nuint)bytes, Pointer), "cuMemcpyDtoDAsync");

    public void Memset(IntPtr destination, byte value, long bytes) =>
        CudaCheck.ThrowIfFailed(CudaDriverApi.cuMemsetD8Async(destination, value, (nuint)bytes, Pointer), "cuMemsetD8Async");

    protected override CudaError Release(IntPtr value) => CudaDriverApi.cuStreamDestroy(value);
}

internal sealed class CudaEvent(IntPtr cudaEvent, IntPtr context) : CudaHandle(cudaEvent, context)
{
    public void Record(CudaStream stream) =>
        CudaCheck.ThrowIfFailed(CudaDriverApi.cuEventRecord(Pointer, stream.Pointer), "cuEventRecord");

    public void Synchronize() =>
        CudaCheck.ThrowIfFailed(CudaDriverApi.cuEventSynchronize(Pointer), "cuEventSynchronize");

    /// <summary>True once all work captured by the last record has completed.</summary>
    public bool IsComplete()
    {
        var result = CudaDriverApi.cuEventQuery(Pointer);
        if (result == CudaError.NotReady)
            return false;
        CudaCheck.ThrowIfFailed(result, "cuEventQuery");
        return true;
    }

    /// <summary>Milliseconds between two recorded timing events.</summary>
    public static float Elapsed(CudaEvent start, CudaEvent end)
    {
        CudaCheck.ThrowIfFailed(CudaDriverApi.cuEventElapsedTime(out var ms, start.Pointer, end.Pointer), "cuEventElapsedTime");
        return ms;
    }

    protected override CudaError Release(IntPtr value) => CudaDriverApi.cuEventDestroy(value);
}

/// <summary>A module loaded from PTX; its kernels are launched with <see cref="Launch"/>.</summary>
internal sealed class CudaModule : CudaHandle
{
    private CudaModule(IntPtr module, IntPtr context) : base(module, context) { }

    internal static CudaModule Load(string ptx, IntPtr context)
    {
        var image = Marshal.StringToCoTaskMemUTF8(ptx);
        try
        {
            CudaCheck.ThrowIfFailed(CudaDriverApi.cuModuleLoadData(out var module, image), "cuModuleLoadData");
            return new CudaModule(module, context);
        }
        finally
        {
            Marshal.FreeCoTaskMem(image);
        }
    }

    public IntPtr GetFunction(string name)
    {
        CudaCheck.ThrowIfFailed(CudaDriverApi.cuModuleGetFunction(out var function, Pointer, name), $"cuModuleGetFunction({name})");
        return function;
    }

    /// <summary>Launches a kernel; each argument is passed by address, as cuLaunchKernel wants.</summary>
    public static unsafe void Launch(IntPtr function, (uint X, uint Y, uint Z) grid, (uint X, uint Y, uint Z) block, IntPtr stream, params ReadOnlySpan<IntPtr> argumentAddresses)
    {
        fixed (IntPtr* arguments = argumentAddresses)
        {
            CudaCheck.ThrowIfFailed(
                CudaDriverApi.cuLaunchKernel(function, grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z, 0, stream, (IntPtr)arguments, IntPtr.Zero),
                "cuLaunchKernel");
        }
    }

    protected override CudaError Release(IntPtr value) => CudaDriverApi.cuModuleUnload(value);
}
