using TrtMLNet.Device;

namespace TrtMLNet.Execution;

/// <summary>
/// Host staging buffers (pinned on a GPU), kept for reuse: pinning is slow (the driver locks every
/// page), and cursors come and go, one per scoring pass and per parallel worker.
/// </summary>
internal sealed class StagingPool : IDisposable
{
    private readonly ComputeDevice _device;
    private readonly Lock _lock = new();
    private readonly List<DeviceBuffer> _free = [];
    private long _allocated;
    private bool _disposed;

    public StagingPool(ComputeDevice device) => _device = device;

    /// <summary>Bytes of staging memory held, in use or free.</summary>
    public long AllocatedBytes
    {
        get { lock (_lock) return _allocated; }
    }

    public DeviceBuffer Rent(long bytes)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var best = _free.Where(b => b.Bytes >= bytes).MinBy(b => b.Bytes);
            // A buffer far larger than asked for stays for a cursor that needs it.
            if (best is not null && best.Bytes <= Math.Max(2 * bytes, 1 << 20))
            {
                _free.Remove(best);
                return best;
            }
        }
        _device.MakeCurrent();
        var buffer = _device.AllocateStaging(bytes, "staging");
        lock (_lock)
            _allocated += buffer.Bytes;
        return buffer;
    }

    public void Return(DeviceBuffer buffer)
    {
        lock (_lock)
        {
            if (!_disposed)
            {
                _free.Add(buffer);
                return;
            }
            _allocated -= buffer.Bytes;
        }
        _device.MakeCurrent();
        buffer.Dispose();
    }

    /// <summary>Frees a rented buffer instead of keeping it, for holders that can no longer vouch for it.</summary>
    public void Forget(DeviceBuffer buffer)
    {
        lock (_lock)
            _allocated -= buffer.Bytes;
        _device.MakeCurrent();
        buffer.Dispose();
    }

    /// <summary>Frees the buffers no cursor holds.</summary>
    public void Trim()
    {
        List<DeviceBuffer> free;
        lock (_lock)
        {
            free = [.. _free];
            _free.Clear();
            _allocated -= free.Sum(b => b.Bytes);
        }
        _device.MakeCurrent();
        foreach (var buffer in free)
            buffer.Dispose();
    }

    public void Dispose()
    {
        lock (_lock)
            _disposed = true;
        Trim();
    }
}
