namespace TrtMLNet.Device;

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
    private readonly CudaDeviceStream _stream;
    private readonly CudaDeviceEvent[] _events;

    public CudaTimer(Native.Cuda.CudaDevice device, CudaDeviceStream stream, int marks)
    {
        _stream = stream;
        _events = new CudaDeviceEvent[marks];
        for (var i = 0; i < marks; i++)
            _events[i] = new CudaDeviceEvent(device.CreateEvent(timing: true));
    }

    public override void Mark(int index) => _events[index].Record(_stream);

    public override double Elapsed(int from, int to) => Native.Cuda.CudaEvent.Elapsed(_events[from].Native, _events[to].Native);

    public override void Dispose()
    {
        foreach (var e in _events)
            e.Dispose();
    }
}
