namespace TrtMLNet.Execution;

/// <summary>
/// A scratch slab lent to user code between batches: idle device memory the caller may use as its own
/// until it gives it back. While lent, the slab serves no execution. Give it back with
/// <see cref="Return(IntPtr)"/> naming the CUDA stream that last used it, so the next execution waits
/// for that stream's work, or with <see cref="Dispose"/> once the host is sure no work on it is pending.
/// </summary>
public sealed class ScratchLoan : IDisposable
{
    private readonly ScratchArena _arena;
    private readonly ScratchSlab _slab;
    private int _returned;

    internal ScratchLoan(ScratchArena arena, ScratchSlab slab)
    {
        _arena = arena;
        _slab = slab;
        Pointer = slab.Buffer!.Pointer;
        Bytes = slab.Buffer.Bytes;
    }

    /// <summary>The slab's address: device memory on a GPU, host memory on the CPU.</summary>
    public IntPtr Pointer { get; }

    public long Bytes { get; }

    /// <summary>Gives the slab back; executions that use it next wait for the work queued so far on <paramref name="cudaStream"/>.</summary>
    public void Return(IntPtr cudaStream)
    {
        if (Interlocked.Exchange(ref _returned, 1) != 0)
            return;
        _arena.Return(_slab, cudaStream == IntPtr.Zero ? null : new ExternalCudaStream(cudaStream));
    }

    /// <summary>Gives the slab back, for when no device work that uses it is pending any more.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _returned, 1) == 0)
            _arena.Return(_slab, null);
    }
}
