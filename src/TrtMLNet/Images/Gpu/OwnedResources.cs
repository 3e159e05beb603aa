namespace TrtMLNet.Images.Gpu;

/// <summary>
/// What an object of the GPU image path makes in steps and owns, freed in the reverse order of making: so a
/// constructor that stops half way frees what it made, and whatever was made from an earlier part goes first.
/// The owner waits for the GPU to finish with them before it calls <see cref="Dispose"/>.
/// </summary>
internal sealed class OwnedResources : IDisposable
{
    private readonly List<IDisposable> _items = [];

    public T Add<T>(T item) where T : IDisposable
    {
        _items.Add(item);
        return item;
    }

    public void Dispose()
    {
        for (int i = _items.Count - 1; i >= 0; i--)
            _items[i].Dispose();
        _items.Clear();
    }
}
