using TrtMLNet.Native.Cuda;

namespace TrtMLNet.Images.Gpu;

/// <summary>
/// Device or pinned host memory that grows to the largest need seen (by half again, so a slowly growing
/// need does not reallocate every batch) and is freed on Dispose. Growing frees the old allocation, so
/// the caller's <c>waitIdle</c> must first wait for every use of it the GPU may still be running.
/// </summary>
internal sealed class GrowableBuffer(CudaDevice device, string purpose, bool pinned) : IDisposable
{
    private CudaHandle? _memory;

    public IntPtr Pointer => _memory?.Pointer ?? IntPtr.Zero;

    public long Bytes { get; private set; }

    /// <summary>Makes the buffer at least <paramref name="bytes"/> long; returns its (possibly new) address.</summary>
    public IntPtr Ensure(long bytes, Action waitIdle)
    {
        ObjectDisposedException.ThrowIf(Bytes < 0, this);
        if (bytes <= Bytes && _memory is not null)
            return _memory.Pointer;
        waitIdle();
        long size = Math.Max(bytes, Bytes + Bytes / 2);
        _memory?.Dispose();
        _memory = null;
        Bytes = 0;
        _memory = pinned ? device.AllocatePinned(size, purpose) : device.Allocate(size, purpose);
        Bytes = size;
        return _memory.Pointer;
    }

    public void Dispose()
    {
        _memory?.Dispose();
        _memory = null;
        Bytes = -1;
    }
}
