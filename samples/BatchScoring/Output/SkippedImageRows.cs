using BatchScoring.InputSources;
using TrtMLNet;

namespace BatchScoring.Output;

/// <summary>
/// The rows of an image folder whose image TrtMLNet could not decode. TrtMLNet scores such a row as zeros
/// and lists it (<see cref="TensorRtTransformer.SkippedImages"/>) before the row reaches the writer, which
/// asks here and reports it as a bad row instead of writing it.
/// </summary>
public sealed class SkippedImageRows(TensorRtTransformer transformer, ImageRows rows)
{
    private readonly Dictionary<long, SkippedImage> _byPosition = [];
    private int _seen;

    /// <summary>The bad row for the image at <paramref name="position"/> of the scored view, or null when it decoded.</summary>
    public BadRow? Find(long position)
    {
        // The list only grows; copy it again only when it has.
        if (transformer.SkippedImageCount != _seen)
        {
            var skipped = transformer.SkippedImages;
            foreach (var image in skipped)
                _byPosition[image.Row] = image;
            _seen = skipped.Count;
        }
        return _byPosition.Remove(position, out var bad) ? rows.BadRow(position, bad.Reason) : null;
    }
}
