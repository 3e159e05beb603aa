using System.Text;

namespace TrtMLNet.Native.Cuda;

/// <summary>
/// One GPU and its primary context. The primary context is the one the CUDA runtime (and so ONNX
/// Runtime and TensorRT) uses, so memory and streams made here are usable by them. It is retained
/// for the life of the process and never released: other libraries in the process share it, and
/// releasing the last reference would destroy their allocations with it.
/// </summary>
internal sealed class CudaDevice
{
    private readonly IntPtr _context;

    internal CudaDevice(int ordinal)
    {
        Ordinal = ordinal;
        CudaCheck.ThrowIfFailed(CudaDriverApi.cuDeviceGet(out var device, ordinal), $"cuDeviceGet({ordinal})");
        Handle = device;
        Name = ReadName(device);
        CudaCheck.ThrowIfFailed(CudaDriverApi.cuDeviceGetAttribute(out var major, CudaDeviceAttribute.ComputeCapabilityMajor, device), "cuDeviceGetAttribute");
        CudaCheck.ThrowIfFailed(CudaDriverApi.cuDeviceGetAttribute(out var minor, CudaDeviceAttribute.ComputeCapabilityMinor, device), "cuDeviceGetAttribute");
        ComputeCapability = new Version(major, minor);
        CudaCheck.ThrowIfFailed(CudaDriverApi.cuDeviceTotalMem(out var total, device), "cuDeviceTotalMem");
        TotalMemory = (long)total;
        CudaCheck.ThrowIfFailed(CudaDriverApi.cuDevicePrimaryCtxRetain(out _context, device), $"cuDevicePrimaryCtxRetain(GPU {ordinal})");
    }

    public int Ordinal { get; }

    internal int Handle { get; }

    public string Name { get; }

    public Version ComputeCapability { get; }

    public long TotalMemory { get; }

    internal IntPtr Context => _context;

    [ThreadStatic] private static bool t_mindsOwnCapturesOnly;

    /// <summary>
    /// Makes the primary context current on the calling thread. Driver calls act on the current
    /// context, and lanes, cursors and finalizers run on threads of their own.
    /// </summary>
    /// <remarks>
    /// Once per thread it also sets the thread's stream capture mode to thread-local. ONNX Runtime captures
    /// CUDA graphs in the global mode, where a synchronize or allocation on any other thread fails ("operation
    /// not permitted when stream is capturing") while the capture lasts: on the H200, one lane's run failed
    /// so while another lane captured a graph for another batch size. Nothing a TrtMLNet thread does touches
    /// another thread's capturing stream (all streams are non-blocking), so minding only its own captures is
    /// safe, and a capturing thread is still held to the rules for its own. What the mode does not cover: a
    /// call that synchronizes the whole device (freeing device memory) while another thread captures would
    /// spoil that capture. While batches run, TrtMLNet frees device memory only when a lane's image decoder
    /// grows its buffers for larger pictures; ONNX Runtime captures during each size's first runs on a lane.
    /// </remarks>
    public void MakeCurrent()
    {
        CudaCheck.ThrowIfFailed(CudaDriverApi.cuCtxSetCurrent(_context), $"cuCtxSetCurrent(GPU {Ordinal})");
        if (t_mindsOwnCapturesOnly)
            return;
        var mode = CudaDriverApi.StreamCaptureModeThreadLocal;
        CudaCheck.ThrowIfFailed(CudaDriverApi.cuThreadExchangeStreamCaptureMode(ref mode), "cuThreadExchangeStreamCaptureMode");
        t_mindsOwnCapturesOnly = true;
    }

    /// <summary>Free and total device memory as the driver sees it (all processes included).</summary>
    public (long Free, long Total) GetMemoryInfo()
    {
        MakeCurrent();
        CudaCheck.ThrowIfFailed(CudaDriverApi.cuMemGetInfo(out var free, out var total), "cuMemGetInfo");
        return ((long)free, (long)total);
    }

    public CudaDeviceMemory Allocate(long bytes, string purpose)
    {
        MakeCurrent();
        var result = CudaDriverApi.cuMemAlloc(out var pointer, (nuint)Math.Max(bytes, 1));
        if (result == CudaError.OutOfMemory)
        {
            var (free, total) = SafeMemoryInfo();
            throw new CudaException(result, "CUDA_ERROR_OUT_OF_MEMORY",
                $"Out of GPU memory on GPU {Ordinal} ({Name}) allocating {Bytes.Format(bytes)} for {purpose}; " +
                $"free {Bytes.Format(free)} of {Bytes.Format(total)}.");
        }
        CudaCheck.ThrowIfFailed(result, $"cuMemAlloc({Bytes.Format(bytes)} for {purpose})");
        return new CudaDeviceMemory(pointer, bytes, _context);
    }

    public CudaPinnedMemory AllocatePinned(long bytes, string purpose)
    {
        MakeCurrent();
        // Portable: the pinned buffer is used from the threads of every lane, not only this context's.
        var result = CudaDriverApi.cuMemHostAlloc(out var pointer, (nuint)Math.Max(bytes, 1), CudaDriverApi.HostAllocPortable);
        CudaCheck.ThrowIfFailed(result, $"cuMemHostAlloc({Bytes.Format(bytes)} of pinned host memory for {purpose})");
        return new CudaPinnedMemory(pointer, bytes, _context);
    }

    public CudaStream CreateStream()
    {
        MakeCurrent();
        // Non-blocking: lanes must not serialize behind the legacy default stream other libraries may use.
        // Greatest priority: a lane's stream carries what feeds an engine (copies, image decoding and
        // resizing), which should not queue behind another lane's execution on ONNX Runtime's own stream.
        CudaCheck.ThrowIfFailed(CudaDriverApi.cuCtxGetStreamPriorityRange(out _, out var greatest), "cuCtxGetStreamPriorityRange");
        CudaCheck.ThrowIfFailed(CudaDriverApi.cuStreamCreateWithPriority(out var stream, CudaDriverApi.StreamNonBlocking, greatest), "cuStreamCreateWithPriority");
        return new CudaStream(stream, _context);
    }

    /// <summary>An event; blocking-sync so a host waiting on it sleeps instead of spinning a core.</summary>
    public CudaEvent CreateEvent(bool timing = false)
    {
        MakeCurrent();
        var flags = CudaDriverApi.EventBlockingSync | (timing ? 0 : CudaDriverApi.EventDisableTiming);
        CudaCheck.ThrowIfFailed(CudaDriverApi.cuEventCreate(out var ev, flags), "cuEventCreate");
        return new CudaEvent(ev, _context);
    }

    public CudaModule LoadModule(string ptx)
    {
        MakeCurrent();
        return CudaModule.Load(ptx, _context);
    }

    private (long Free, long Total) SafeMemoryInfo()
    {
        try { return GetMemoryInfo(); }
        catch (CudaException) { return (0, TotalMemory); }
    }

    private static unsafe string ReadName(int device)
    {
        var buffer = stackalloc byte[256];
        CudaCheck.ThrowIfFailed(CudaDriverApi.cuDeviceGetName(buffer, 256, device), "cuDeviceGetName");
        var length = 0;
        while (length < 256 && buffer[length] != 0) length++;
        return Encoding.UTF8.GetString(buffer, length);
    }

    public override string ToString() => $"GPU {Ordinal}: {Name} (compute {ComputeCapability}, {Bytes.Format(TotalMemory)})";
}
