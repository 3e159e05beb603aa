using TrtMLNet.Device;

namespace TrtMLNet.Execution;

internal sealed class ScratchSlab(int index)
{
    public int Index { get; } = index;

    public DeviceBuffer? Buffer { get; set; }

    /// <summary>Placed after the last execution that used this slab; null when none is pending.</summary>
    public Fence? Fence { get; set; }

    public DeviceStream? LastStream { get; set; }

    public bool IsLent { get; set; }

    /// <summary>Frees the memory once its last user is done with it.</summary>
    public void Release()
    {
        if (Fence is not null)
        {
            Fence.WaitOnHost();
            Fence.Dispose();
            Fence = null;
        }
        Buffer?.Dispose();
        Buffer = null;
        LastStream = null;
    }
}

/// <summary>A slab held by one execution; disposing it places the fence its next user waits for.</summary>
internal sealed class ScratchLease(IntPtr pointer, long bytes, Fence fence, DeviceStream stream) : IDisposable
{
    private int _released;

    public IntPtr Pointer { get; } = pointer;

    public long Bytes { get; } = bytes;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
            fence.Place(stream);
    }
}
