namespace TrtMLNet.Device;

/// <summary>
/// Marks a point in one stream's work that others may wait for: the end of an execution that used a
/// scratch slab, say. It has two halves. The host half says the point has been placed: until then a
/// waiter cannot know what to wait for, so it blocks on the host (briefly: placing happens right
/// after the work is queued). The device half, an event, says the device has passed that point. On
/// the CPU, streams run their work inline, so placing the fence means the work is already done.
/// </summary>
internal sealed class Fence : IDisposable
{
    private readonly ManualResetEventSlim _placed = new(false);
    private readonly DeviceEvent? _event;

    public Fence(DeviceEvent? deviceEvent) => _event = deviceEvent;

    /// <summary>
    /// Places the fence after everything queued on <paramref name="stream"/> so far. Once this
    /// returns or throws, the fence counts as placed: a waiter blocked forever is worse than a waiter
    /// that goes on after a stream that has already failed (whose error surfaces on its own).
    /// </summary>
    public void Place(DeviceStream stream)
    {
        try
        {
            _event?.Record(stream);
        }
        finally
        {
            _placed.Set();
        }
    }

    /// <summary>Makes <paramref name="stream"/>'s later work wait until the fence's point has passed.</summary>
    public void MakeStreamWait(DeviceStream stream)
    {
        _placed.Wait();
        _event?.MakeStreamWait(stream);
    }

    /// <summary>Blocks the calling thread until the fence's point has passed on the device.</summary>
    public void WaitOnHost()
    {
        _placed.Wait();
        _event?.Synchronize();
    }

    /// <summary>Whether the fence's point has passed, without blocking.</summary>
    public bool HasPassed() => _placed.IsSet && (_event is null || _event.IsComplete());

    public void Dispose()
    {
        _event?.Dispose();
        _placed.Dispose();
    }
}
