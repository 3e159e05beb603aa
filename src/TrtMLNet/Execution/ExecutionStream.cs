using TrtMLNet.Native.Cuda;

namespace TrtMLNet.Execution;

/// <summary>
/// An ordered queue of device work: copies, executions, fences. On a GPU it is a CUDA stream and the
/// calls return as soon as the work is queued; on the CPU work runs inline on the calling thread (a
/// lane's worker), which gives the same ordering with nothing to wait for.
/// </summary>
internal abstract class ExecutionStream : IDisposable
{
    /// <summary>The native stream handle for backends (a CUstream), or zero on the CPU.</summary>
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

    internal abstract void Record(CudaEvent cudaEvent);

    internal abstract void Wait(CudaEvent cudaEvent);

    public abstract void Dispose();
}

internal sealed class HostStream : ExecutionStream
{
    public override IntPtr Handle => IntPtr.Zero;

    public override unsafe void CopyToDevice(IntPtr destination, IntPtr source, long bytes) => Copy(destination, source, bytes);

    public override unsafe void CopyToHost(IntPtr destination, IntPtr source, long bytes) => Copy(destination, source, bytes);

    public override void Synchronize() { }

    public override StreamTimer CreateTimer(int marks) => new HostTimer(marks);

    internal override void Record(CudaEvent cudaEvent) => throw new InvalidOperationException("A CPU stream has no CUDA events.");

    internal override void Wait(CudaEvent cudaEvent) => throw new InvalidOperationException("A CPU stream has no CUDA events.");

    public override void Dispose() { }

    private static unsafe void Copy(IntPtr destination, IntPtr source, long bytes)
    {
        // On the CPU, IO buffers usually are the staging buffers themselves: nothing to move.
        if (destination != source && bytes > 0)
            Buffer.MemoryCopy((void*)source, (void*)destination, bytes, bytes);
    }
}

internal sealed class CudaExecutionStream(CudaDevice device) : ExecutionStream
{
    private readonly CudaStream _stream = device.CreateStream();
    private readonly CudaEvent _completion = device.CreateEvent();

    public override IntPtr Handle => _stream.Pointer;

    internal CudaStream Native => _stream;

    public override void CopyToDevice(IntPtr destination, IntPtr source, long bytes) => _stream.CopyToDevice(destination, source, bytes);

    public override void CopyToHost(IntPtr destination, IntPtr source, long bytes) => _stream.CopyToHost(destination, source, bytes);

    public override void Synchronize() => _stream.Synchronize();

    public override void WaitForCompletion()
    {
        _completion.Record(_stream);
        _completion.Synchronize();
    }

    public override StreamTimer CreateTimer(int marks) => new CudaTimer(device, this, marks);

    internal override void Record(CudaEvent cudaEvent) => cudaEvent.Record(_stream);

    internal override void Wait(CudaEvent cudaEvent) => _stream.Wait(cudaEvent);

    public override void Dispose()
    {
        _completion.Dispose();
        _stream.Dispose();
    }
}

/// <summary>A CUDA stream that belongs to the caller: used for ordering only, never destroyed here.</summary>
internal sealed class ExternalCudaStream(IntPtr stream) : ExecutionStream
{
    public override IntPtr Handle => stream;

    public override void CopyToDevice(IntPtr destination, IntPtr source, long bytes) =>
        CudaException.ThrowIfFailed(CudaDriverApi.cuMemcpyHtoDAsync(destination, source, (nuint)bytes, stream), "cuMemcpyHtoDAsync");

    public override void CopyToHost(IntPtr destination, IntPtr source, long bytes) =>
        CudaException.ThrowIfFailed(CudaDriverApi.cuMemcpyDtoHAsync(destination, source, (nuint)bytes, stream), "cuMemcpyDtoHAsync");

    public override void Synchronize() =>
        CudaException.ThrowIfFailed(CudaDriverApi.cuStreamSynchronize(stream), "cuStreamSynchronize");

    public override StreamTimer CreateTimer(int marks) => throw new NotSupportedException("Timing on a caller's stream is not offered.");

    internal override void Record(CudaEvent cudaEvent) =>
        CudaException.ThrowIfFailed(CudaDriverApi.cuEventRecord(cudaEvent.Pointer, stream), "cuEventRecord");

    internal override void Wait(CudaEvent cudaEvent) =>
        CudaException.ThrowIfFailed(CudaDriverApi.cuStreamWaitEvent(stream, cudaEvent.Pointer, 0), "cuStreamWaitEvent");

    public override void Dispose() { }
}

/// <summary>Marks points in a stream's work and tells the milliseconds between them once the work is done.</summary>
internal abstract class StreamTimer : IDisposable
{
    public abstract void Mark(int index);

    /// <summary>Milliseconds from mark <paramref name="from"/> to mark <paramref name="to"/>; call after the stream's work completed.</summary>
    public abstract double Elapsed(int from, int to);

    public virtual void Dispose() { }
}

internal sealed class HostTimer(int marks) : StreamTimer
{
    private readonly long[] _ticks = new long[marks];

    // Work on a CPU stream runs inline, so the host clock at the call is the stream's clock.
    public override void Mark(int index) => _ticks[index] = System.Diagnostics.Stopwatch.GetTimestamp();

    public override double Elapsed(int from, int to) =>
        System.Diagnostics.Stopwatch.GetElapsedTime(_ticks[from], _ticks[to]).TotalMilliseconds;
}

internal sealed class CudaTimer : StreamTimer
{
    private readonly CudaExecutionStream _stream;
    private readonly CudaEvent[] _events;

    public CudaTimer(CudaDevice device, CudaExecutionStream stream, int marks)
    {
        _stream = stream;
        _events = new CudaEvent[marks];
        for (var i = 0; i < marks; i++)
            _events[i] = device.CreateEvent(timing: true);
    }

    public override void Mark(int index) => _events[index].Record(_stream.Native);

    public override double Elapsed(int from, int to) => CudaEvent.Elapsed(_events[from], _events[to]);

    public override void Dispose()
    {
        foreach (var e in _events)
            e.Dispose();
    }
}
