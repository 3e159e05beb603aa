using System.Collections.Concurrent;

namespace TrtMLNet.Images.Gpu;

/// <summary>
/// Things made on demand and reused, for several threads at once: a thread takes one, uses it alone and
/// gives it back, so there are as many as were ever in use together. Dispose frees them all; nothing may be
/// in use then.
/// </summary>
internal sealed class FreeList<T>(Func<T> make) : IDisposable where T : class, IDisposable
{
    private readonly ConcurrentBag<T> _free = [];
    private readonly List<T> _all = [];
    private readonly Lock _lock = new();
    private bool _disposed;

    /// <summary>Every one made so far, in use or not.</summary>
    public IReadOnlyList<T> All
    {
        get { lock (_lock) return [.. _all]; }
    }

    public T Take()
    {
        lock (_lock)
            ObjectDisposedException.ThrowIf(_disposed, this);
        if (_free.TryTake(out var item))
            return item;
        item = make();
        lock (_lock)
        {
            if (!_disposed)
            {
                _all.Add(item);
                return item;
            }
        }
        item.Dispose();
        throw new ObjectDisposedException(GetType().Name);
    }

    public void Return(T item) => _free.Add(item);

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            foreach (var item in _all)
                item.Dispose();
            _all.Clear();
            _free.Clear();
        }
    }
}
