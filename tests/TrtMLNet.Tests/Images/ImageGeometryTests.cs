using TrtMLNet.Images;

namespace TrtMLNet.Tests.Images;

/// <summary>
/// Resize(N) + CenterCrop(S) as torchvision does it on a PIL image. Expected values are worked out from
/// torchvision's formulas: long = int(N * long / short), offset = round((resized - crop) / 2.0) (half to even),
/// and for a crop larger than the image a padding of (crop - resized) // 2 before it.
/// </summary>
public class ImageGeometryTests
{
    [Fact]
    public void LandscapeImageNetSize()
    {
        // 256 * 500 / 375 = 341.33 -> 341; (341 - 224) / 2 = 58.5 rounds to even 58; (256 - 224) / 2 = 16.
        var g = ImageGeometry.ShorterSideThenCenterCrop(500, 375, 256, 224, 224);
        Assert.Equal(new ImageGeometry(341, 256, 58, 16, 224, 224), g);
    }

    [Fact]
    public void PortraitIsTheTransposeOfLandscape()
    {
        var g = ImageGeometry.ShorterSideThenCenterCrop(375, 500, 256, 224, 224);
        Assert.Equal(new ImageGeometry(256, 341, 16, 58, 224, 224), g);
    }

    [Theory]
    [InlineData(341, 224, 58)]  // 58.5 -> 58 (even)
    [InlineData(227, 224, 2)]   // 1.5 -> 2 (even)
    [InlineData(229, 224, 2)]   // 2.5 -> 2 (even)
    [InlineData(226, 224, 1)]   // 1.0
    [InlineData(224, 224, 0)]
    [InlineData(64, 80, -8)]    // padded by 16 // 2 = 8 before
    [InlineData(64, 81, -8)]    // padded by 17 // 2 = 8 before, 9 after
    [InlineData(63, 80, -8)]    // padded by 17 // 2 = 8 before
    public void CenterCropOffsetsRoundHalfToEvenAndPadBefore(int resized, int crop, int expected)
    {
        Assert.Equal(expected, ImageGeometry.CenterCropOffset(resized, crop));
    }

    [Fact]
    public void UpscalingOddSizesTruncatesTheLongerSide()
    {
        // 64 * 37 / 23 = 102.96 -> 102 (truncated, not rounded)
        var g = ImageGeometry.ShorterSideThenCenterCrop(37, 23, 64, 48, 48);
        Assert.Equal(new ImageGeometry(102, 64, 27, 8, 48, 48), g);
    }

    [Fact]
    public void SquareImageTakesTheShorterSideForBoth()
    {
        var g = ImageGeometry.ShorterSideThenCenterCrop(64, 64, 32, 32, 32);
        Assert.Equal(new ImageGeometry(32, 32, 0, 0, 32, 32), g);
    }

    [Fact]
    public void ACropLargerThanTheResizedImageStartsBeforeIt()
    {
        // Resize(64) of 37x23 is 102x64; CenterCrop(80): width crops at round(22 / 2) = 11, height pads 8 before.
        var g = ImageGeometry.ShorterSideThenCenterCrop(37, 23, 64, 80, 80);
        Assert.Equal(new ImageGeometry(102, 64, 11, -8, 80, 80), g);
    }

    [Fact]
    public void StretchKeepsNoAspectRatio()
    {
        Assert.Equal(new ImageGeometry(224, 100, 0, 0, 224, 100), ImageGeometry.Stretch(500, 375, 224, 100));
    }

    [Fact]
    public void EmptyImagesAndSizesAreRefused()
    {
        Assert.Throws<ArgumentException>(() => ImageGeometry.Stretch(0, 10, 4, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageGeometry.ShorterSideThenCenterCrop(10, 10, 0, 4, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageGeometry.ShorterSideThenCenterCrop(10, 10, 8, 0, 4));
    }
}
