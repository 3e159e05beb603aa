namespace TrtMLNet;

/// <summary>
/// A scratch slab lent to user code between batches: idle device memory the caller may use as its own
/// until it gives it back. While lent, the slab serves no execution, and the device's pool (and so the
/// slab's memory) stays alive even if every transformer on the device is disposed. Give it back with
/// <see cref="Return(IntPtr)"/> naming the CUDA stream that last used it, so the next execution waits
/// for that stream's work, or with <see cref="Dispose"/> once the host is sure no work on it is pending.
/// </summary>
public sealed class ScratchLoan : IDisposable
{
    private readonly Action<IntPtr> _giveBack;
    private int _returned;

    internal ScratchLoan(IntPtr pointer, long bytes, Action<IntPtr> giveBack)
    {
        Pointer = pointer;
        Bytes = bytes;
        _giveBack = giveBack;
    }

    /// <summary>The slab's address: device memory on a GPU, host memory on the CPU.</summary>
    public IntPtr Pointer { get; }

    public long Bytes { get; }

    /// <summary>Gives the slab back; executions that use it next wait for the work queued so far on <paramref name="cudaStream"/>.</summary>
    public void Return(IntPtr cudaStream)
    {
        if (Interlocked.Exchange(ref _returned, 1) == 0)
            _giveBack(cudaStream);
    }

    /// <summary>Gives the slab back, for when no device work that uses it is pending any more.</summary>
    public void Dispose() => Return(IntPtr.Zero);
}
