namespace TrtMLNet.Images.Gpu;

/// <summary>
/// The resample taps of each source size for a layout, computed once: a dataset's images come in a few
/// sizes, and a batch's images of one size share their tap tables. Bounded, so odd sizes cannot grow it forever.
/// </summary>
internal sealed class TapsCache
{
    private const int MaxEntries = 4096;

    private readonly Dictionary<Key, (ResampleTaps Horizontal, ResampleTaps Vertical)> _taps = [];

    /// <summary>The taps that take a <paramref name="width"/> x <paramref name="height"/> image to <paramref name="layout"/>'s size, resize and crop.</summary>
    public (ResampleTaps Horizontal, ResampleTaps Vertical) Get(int width, int height, ImageTensorLayout layout)
    {
        var geometry = layout.GeometryFor(width, height);
        var key = new Key(width, height, geometry);
        if (_taps.TryGetValue(key, out var taps))
            return taps;
        if (_taps.Count >= MaxEntries)
            _taps.Clear();
        taps = (ResampleTaps.Compute(width, geometry.ResizedWidth, geometry.CropLeft, geometry.OutputWidth),
                ResampleTaps.Compute(height, geometry.ResizedHeight, geometry.CropTop, geometry.OutputHeight));
        _taps[key] = taps;
        return taps;
    }

    /// <summary>What the taps depend on: the decoded size and where it goes (which holds the tensor's size).</summary>
    private readonly record struct Key(int Width, int Height, ImageGeometry Geometry);
}
