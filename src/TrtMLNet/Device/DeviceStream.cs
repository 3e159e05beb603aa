using TrtMLNet.Native.Cuda;

namespace TrtMLNet.Device;

/// <summary>
/// An ordered queue of device work: copies, executions, events. On a GPU it is a CUDA stream and the
/// calls return as soon as the work is queued; on the CPU work runs inline on the calling thread (a
/// lane's worker), which gives the same ordering with nothing to wait for.
/// </summary>
internal abstract class DeviceStream : IDisposable
{
    /// <summary>The native stream for native libraries (a CUstream, which is a cudaStream_t), or zero on the CPU.</summary>
    public abstract IntPtr Handle { get; }

    public abstract void CopyToDevice(IntPtr destination, IntPtr source, long bytes);

    public abstract void CopyToHost(IntPtr destination, IntPtr source, long bytes);

    public abstract void Synchronize();

    /// <summary>
    /// Blocks until all work queued so far has completed, sleeping rather than spinning (a lane's
    /// worker waits here while the cursors need the CPU to fill the next batches).
    /// </summary>
    public virtual void WaitForCompletion() => Synchronize();

    /// <summary>A stopwatch on this stream's own clock, for per-stage timings.</summary>
    public abstract StreamTimer CreateTimer(int marks);

    public abstract void Dispose();
}

internal sealed class HostStream : DeviceStream
{
    public override IntPtr Handle => IntPtr.Zero;

    public override void CopyToDevice(IntPtr destination, IntPtr source, long bytes) => Copy(destination, source, bytes);

    public override void CopyToHost(IntPtr destination, IntPtr source, long bytes) => Copy(destination, source, bytes);

    public override void Synchronize() { }

    public override StreamTimer CreateTimer(int marks) => new HostTimer(marks);

    public override void Dispose() { }

    private static unsafe void Copy(IntPtr destination, IntPtr source, long bytes)
    {
        // On the CPU, IO buffers usually are the staging buffers themselves: nothing to move.
        if (destination != source && bytes > 0)
            Buffer.MemoryCopy((void*)source, (void*)destination, bytes, bytes);
    }
}

/// <summary>A CUDA stream, owned (made by the device) or borrowed from the caller.</summary>
internal sealed class CudaDeviceStream(CudaDevice device, CudaStream stream) : DeviceStream
{
    private readonly CudaEvent _completion = device.CreateEvent();

    public override IntPtr Handle => stream.Pointer;

    internal CudaStream Native => stream;

    public override void CopyToDevice(IntPtr destination, IntPtr source, long bytes) => stream.CopyToDevice(destination, source, bytes);

    public override void CopyToHost(IntPtr destination, IntPtr source, long bytes) => stream.CopyToHost(destination, source, bytes);

    public void CopyDeviceToDevice(IntPtr destination, IntPtr source, long bytes) => stream.CopyDeviceToDevice(destination, source, bytes);

    public void Memset(IntPtr destination, byte value, long bytes) => stream.Memset(destination, value, bytes);

    public override void Synchronize() => stream.Synchronize();

    public override void WaitForCompletion()
    {
        // A blocking-sync event sleeps the thread; cuStreamSynchronize may spin a core.
        _completion.Record(stream);
        _completion.Synchronize();
    }

    public override StreamTimer CreateTimer(int marks) => new CudaTimer(device, this, marks);

    public override void Dispose()
    {
        _completion.Dispose();
        stream.Dispose();
    }
}
