namespace TrtMLNet.Images;

/// <summary>
/// Where one image's pixels go: the size the whole image is resized to, and the box of that resized
/// image that becomes the tensor (<see cref="CropLeft"/>, <see cref="CropTop"/>, <see cref="OutputWidth"/>
/// x <see cref="OutputHeight"/>). The box may reach outside the resized image when the crop is larger
/// than it; those pixels are zero, as torchvision's CenterCrop pads them.
/// </summary>
internal readonly record struct ImageGeometry(
    int ResizedWidth, int ResizedHeight, int CropLeft, int CropTop, int OutputWidth, int OutputHeight)
{
    /// <summary>The whole image resized to exactly <paramref name="width"/> x <paramref name="height"/>, aspect ratio not kept.</summary>
    public static ImageGeometry Stretch(int sourceWidth, int sourceHeight, int width, int height)
    {
        CheckSource(sourceWidth, sourceHeight);
        CheckPositive(width, nameof(width));
        CheckPositive(height, nameof(height));
        return new ImageGeometry(width, height, 0, 0, width, height);
    }

    /// <summary>
    /// torchvision's <c>Resize(shorterSide)</c> then <c>CenterCrop((cropHeight, cropWidth))</c> on a PIL image:
    /// the shorter side becomes <paramref name="shorterSide"/> and the longer one
    /// <c>int(shorterSide * long / short)</c> (truncated, as Python's <c>int</c> does); the crop starts at
    /// <c>round((resized - crop) / 2.0)</c>, Python's round (half to even). Where the crop is larger than the
    /// resized side, CenterCrop pads with zeros first, <c>(crop - resized) // 2</c> before: the box starts
    /// that far before the image.
    /// </summary>
    public static ImageGeometry ShorterSideThenCenterCrop(
        int sourceWidth, int sourceHeight, int shorterSide, int cropWidth, int cropHeight)
    {
        CheckSource(sourceWidth, sourceHeight);
        CheckPositive(shorterSide, nameof(shorterSide));
        CheckPositive(cropWidth, nameof(cropWidth));
        CheckPositive(cropHeight, nameof(cropHeight));

        int resizedWidth, resizedHeight;
        if (sourceWidth <= sourceHeight)
        {
            resizedWidth = shorterSide;
            resizedHeight = LongerSide(shorterSide, sourceHeight, sourceWidth);
        }
        else
        {
            resizedHeight = shorterSide;
            resizedWidth = LongerSide(shorterSide, sourceWidth, sourceHeight);
        }
        return new ImageGeometry(
            resizedWidth, resizedHeight,
            CenterCropOffset(resizedWidth, cropWidth), CenterCropOffset(resizedHeight, cropHeight),
            cropWidth, cropHeight);
    }

    // torchvision: new_long = int(size * long / short). The product is exact in Python (and in a long
    // here); the true division of two integers this small is the correctly rounded double division.
    private static int LongerSide(int shorterSide, int longSource, int shortSource)
    {
        double longer = (double)((long)shorterSide * longSource) / shortSource;
        if (longer > int.MaxValue)
            throw new ArgumentException($"An image of {longSource} by {shortSource} pixels resized so its shorter side is {shorterSide} would be {longer:F0} pixels long; that " +
                $"is too large.");
        return (int)longer;
    }

    /// <summary>The first resized pixel the crop takes; negative where torchvision pads before cropping.</summary>
    internal static int CenterCropOffset(int resized, int crop)
    {
        if (crop > resized)
            return -((crop - resized) / 2); // the left/top padding, (crop - resized) // 2 on positive numbers
        return (int)Math.Round((resized - crop) / 2.0, MidpointRounding.ToEven);
    }

    private static void CheckSource(int width, int height)
    {
        if (width <= 0 || height <= 0)
            throw new ArgumentException($"An image of {width} x {height} pixels has no pixels to resize.");
    }

    private static void CheckPositive(int value, string name)
    {
        if (value <= 0)
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be at least 1 pixel.");
    }
}
