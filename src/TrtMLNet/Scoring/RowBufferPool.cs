using System.Collections.Concurrent;

namespace TrtMLNet.Scoring;

/// <summary>
/// The per-row arrays large inputs are read into (<see cref="LargeRowFiller"/>), kept between cursors: a
/// cursor per batch (a serving pool's) would otherwise allocate a batch of them each time, megabytes on the
/// large-object heap, and the collections that follow. Two sets are kept per input (two cursors at once:
/// a pool's two batches in flight), more are dropped: for ResNet-50 at batch 256 that keeps 2 x 154 MB
/// of managed memory for as long as the transformer lives.
/// </summary>
internal sealed class RowBufferPool
{
    private const int SetsKeptPerInput = 2;
    private readonly ConcurrentDictionary<int, ConcurrentBag<Array>> _free = new();

    /// <summary>A set of <paramref name="rows"/> arrays for input <paramref name="input"/>; an array is null until its row is first read.</summary>
    public T[]?[] Rent<T>(int input, int rows) =>
        _free.TryGetValue(input, out var sets) && sets.TryTake(out var set) && set is T[]?[] typed && typed.Length == rows ? typed : new T[]?[rows];

    public void Return<T>(int input, T[]?[] set)
    {
        var sets = _free.GetOrAdd(input, _ => []);
        if (sets.Count < SetsKeptPerInput)
            sets.Add(set);
    }
}
