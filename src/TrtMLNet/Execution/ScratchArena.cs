using TrtMLNet.Device;

namespace TrtMLNet.Execution;

/// <summary>
/// The scratch (activation) memory of one device, shared by every engine on it. It holds a few slabs,
/// each as large as the largest need among the registered engines; an execution borrows one slab for
/// the time it runs, so scratch costs slabs x largest need instead of contexts x own need.
///
/// The invariant: a slab serves at most one execution in flight. A host lock cannot keep it alone,
/// because a GPU still uses the slab after the enqueue call has returned. It is kept here, in three
/// places:
/// 1. <see cref="Acquire"/> swaps in a fresh fence for the slab under the lock, so every user of a
///    slab is chained after the one before it;
/// 2. before the new user's work is queued, its stream waits for the previous user's fence
///    (<see cref="Fence.MakeStreamWait"/>): on a GPU a device-side wait on a CUDA event, on the CPU a
///    host wait; the slab is "released on the completion event", never when the call returns;
/// 3. <see cref="ScratchLease.Dispose"/> places the new fence right after the execution's work on its
///    stream, and growing, trimming or lending a slab first waits for its last fence.
/// </summary>
internal sealed class ScratchArena : IDisposable
{
    private readonly ComputeDevice _device;
    private readonly object _lock = new();
    private readonly List<ScratchSlab> _slabs = [];
    private readonly Dictionary<object, (long Bytes, int Slabs)> _needs = [];
    private long _slabBytes;
    private int _roundRobin;
    private bool _disposed;

    public ScratchArena(ComputeDevice device) => _device = device;

    /// <summary>
    /// Test hook that breaks step 2 of the invariant (the wait on the previous user's fence), to show
    /// that the tests which check the invariant do catch its loss. Never set outside tests.
    /// </summary>
    internal bool SkipFenceWaitForTesting { get; set; }

    /// <summary>Size of every slab.</summary>
    public long SlabBytes
    {
        get { lock (_lock) return _slabBytes; }
    }

    public int SlabCount
    {
        get { lock (_lock) return _slabs.Count; }
    }

    /// <summary>Bytes the slabs take on the device.</summary>
    public long TotalBytes
    {
        get { lock (_lock) return _slabs.Sum(s => s.Buffer?.Bytes ?? 0); }
    }

    /// <summary>
    /// Declares that <paramref name="owner"/> needs slabs of at least <paramref name="bytes"/> and wants
    /// <paramref name="slabs"/> of them. Slabs grow (or are added) now, between executions: each is
    /// reallocated only after its last fence has passed. On failure (out of memory) the arena is left
    /// as it was before the call.
    /// </summary>
    public void Register(object owner, long bytes, int slabs)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        ArgumentOutOfRangeException.ThrowIfLessThan(slabs, 1);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var previous = _needs.TryGetValue(owner, out var p) ? p : ((long, int)?)null;
            _needs[owner] = (bytes, slabs);
            try
            {
                Reshape();
            }
            catch
            {
                if (previous is { } restore) _needs[owner] = restore;
                else _needs.Remove(owner);
                // Back to exactly what the others need; slabs freed for the failed growth come back.
                Reshape(shrink: true);
                throw;
            }
        }
    }

    /// <summary>Forgets an owner's need. Memory stays until <see cref="Trim"/> (or until the arena is empty).</summary>
    public void Unregister(object owner)
    {
        lock (_lock)
        {
            if (!_needs.Remove(owner) || _disposed)
                return;
            if (_needs.Count == 0)
                Reshape();
        }
    }

    /// <summary>Shrinks slabs, and their number, to what the engines registered now need.</summary>
    public void Trim()
    {
        lock (_lock)
        {
            if (!_disposed)
                Reshape(shrink: true);
        }
    }

    /// <summary>
    /// Takes a slab of at least <paramref name="bytes"/> for one execution queued on
    /// <paramref name="stream"/>. Dispose the lease right after queuing that execution: it places the
    /// fence that the slab's next user waits for.
    /// </summary>
    public ScratchLease Acquire(DeviceStream stream, long bytes)
    {
        ScratchSlab slab;
        Fence? previous;
        Fence fence;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (bytes > _slabBytes)
                throw new InvalidOperationException(
                    $"An execution needs {Bytes.Format(bytes)} of scratch but the slabs of {_device} hold {Bytes.Format(_slabBytes)}: " +
                    "its engine was not registered with the arena.");
            while (true)
            {
                var free = _slabs.Where(s => !s.IsLent && s.Buffer is not null).ToList();
                if (free.Count > 0)
                {
                    slab = Choose(free, stream);
                    break;
                }
                if (_slabs.Count == 0)
                    throw new InvalidOperationException($"The scratch arena of {_device} has no slabs: no engine needing scratch is registered.");
                // Only while a lent slab is being resized on its return can none be free; that is brief.
                Monitor.Wait(_lock);
            }
            // Step 1, made last under the lock so that nothing above can leave a fence unplaced.
            fence = _device.CreateFence();
            previous = slab.Fence;
            slab.Fence = fence;
            slab.LastStream = stream;
        }
        if (previous is not null)
        {
            try
            {
                if (!SkipFenceWaitForTesting)
                    previous.MakeStreamWait(stream);
            }
            catch
            {
                // This execution will not run, but the slab's next user already waits on 'fence': place it
                // only once the previous use has ended, so it stands for that end and nobody hangs.
                PlaceAfter(previous, fence, stream);
                throw;
            }
            finally
            {
                // Only this acquirer saw 'previous' leave the slab, so it is the last to touch it.
                previous.Dispose();
            }
        }
        return new ScratchLease(slab.Buffer!.Pointer, slab.Buffer.Bytes, fence, stream);
    }

    private static void PlaceAfter(Fence previous, Fence fence, DeviceStream stream)
    {
        try
        {
            previous.WaitOnHost();
        }
        catch (Exception)
        {
            // The device failed; its error reaches the caller through the exception being rethrown.
        }
        try
        {
            fence.Place(stream);
        }
        catch (Exception)
        {
            // Place marks the fence placed even when recording fails, which is all a waiter needs.
        }
    }

    /// <summary>
    /// Lends an idle slab to user code. With a stream, that stream is made to wait until the slab's last
    /// execution has passed; without one, this call waits on the host. The slab serves no execution
    /// until the loan is returned.
    /// </summary>
    public ScratchSlab Borrow(long bytes, DeviceStream? stream)
    {
        ScratchSlab slab;
        Fence? previous;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var candidates = _slabs.Where(s => !s.IsLent && s.Buffer is not null && s.Buffer.Bytes >= bytes).ToList();
            // One slab always stays with the executions, so a lane never waits on user code to make progress.
            if (candidates.Count == 0 || _slabs.Count(s => !s.IsLent) < 2)
                throw new InvalidOperationException(_slabs.Count == 0
                    ? $"The scratch arena of {_device} has no slabs to lend: no engine needing scratch is registered."
                    : $"No scratch slab of at least {Bytes.Format(bytes)} can be lent on {_device}: {_slabs.Count(s => s.IsLent)} of {_slabs.Count} are lent, slabs hold " +
                        $"{Bytes.Format(_slabBytes)}, and one always stays with the executions (raise ScratchSlabs to lend more).");
            slab = candidates.OrderByDescending(s => s.Fence?.HasPassed() ?? true).First();
            slab.IsLent = true;
            previous = slab.Fence;
            slab.Fence = null;
        }
        if (previous is not null)
        {
            try
            {
                if (stream is null) previous.WaitOnHost();
                else previous.MakeStreamWait(stream);
            }
            catch
            {
                // Not lent after all: the slab goes back with its fence, as if never asked for.
                lock (_lock)
                {
                    slab.IsLent = false;
                    slab.Fence = previous;
                    Monitor.PulseAll(_lock);
                }
                throw;
            }
            previous.Dispose();
        }
        return slab;
    }

    /// <summary>Takes a lent slab back; executions that use it next wait for the work queued so far on <paramref name="stream"/>.</summary>
    public void Return(ScratchSlab slab, DeviceStream? stream)
    {
        Fence? fence = null;
        if (stream is not null)
        {
            fence = _device.CreateFence();
            fence.Place(stream);
        }
        lock (_lock)
        {
            slab.Fence = fence;
            slab.IsLent = false;
            if (!_disposed)
                Reshape();
            Monitor.PulseAll(_lock);
        }
    }

    /// <summary>Bytes of scratch the registered engines need, and the slab count they want.</summary>
    private (long Bytes, int Slabs) Wanted() =>
        _needs.Count == 0 ? (0, 0) : (_needs.Values.Max(n => n.Bytes), _needs.Values.Max(n => n.Slabs));

    /// <summary>Brings slabs to what is wanted. Called with the lock held.</summary>
    private void Reshape(bool shrink = false)
    {
        var (bytes, count) = Wanted();
        if (bytes == 0) count = 0;
        var targetBytes = shrink || count == 0 ? bytes : Math.Max(bytes, _slabBytes);
        var targetCount = shrink || count == 0 ? count : Math.Max(count, _slabs.Count);

        // Drop surplus slabs that are not lent (a lent one goes when it comes back), but never the last
        // one serving executions while any engine needs scratch: they would wait on user code.
        var serving = _slabs.Count(s => !s.IsLent);
        var keepServing = targetCount == 0 ? 0 : 1;
        for (var i = _slabs.Count - 1; i >= 0 && _slabs.Count > targetCount && serving > keepServing; i--)
        {
            if (_slabs[i].IsLent) continue;
            _slabs[i].Release();
            _slabs.RemoveAt(i);
            serving--;
        }
        while (_slabs.Count < targetCount)
            _slabs.Add(new ScratchSlab(_slabs.Count));
        _slabBytes = targetBytes;
        foreach (var slab in _slabs)
        {
            if (slab.IsLent || slab.Buffer?.Bytes == targetBytes)
                continue;
            slab.Release();
            if (targetBytes > 0)
                slab.Buffer = _device.AllocateDevice(targetBytes, $"scratch slab {slab.Index}");
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var slab in _slabs)
                slab.Release();
            _slabs.Clear();
            _needs.Clear();
            _slabBytes = 0;
            Monitor.PulseAll(_lock);
        }
    }

    private ScratchSlab Choose(List<ScratchSlab> free, DeviceStream stream)
    {
        // The slab this stream used last costs no cross-stream wait: the stream's order already keeps
        // its uses apart. Next best is a slab whose last use has finished; then plain rotation.
        foreach (var slab in free)
            if (ReferenceEquals(slab.LastStream, stream))
                return slab;
        foreach (var slab in free)
            if (slab.Fence is null || slab.Fence.HasPassed())
                return slab;
        return free[_roundRobin++ % free.Count];
    }
}
