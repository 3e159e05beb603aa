using TrtMLNet.Images;

namespace TrtMLNet.Tests.Images;

/// <summary>
/// A JPEG resized to at most half its size is decoded at 1/2, 1/4 or 1/8 by the decoder (DCT scaling), the
/// largest reduction that still leaves at least the resized size. The geometry is that of the full image;
/// the values differ a little from a full decode, as the DCT's downscaling replaces part of the filter.
/// </summary>
public class ReducedDecodeTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(1000, 760, 224, 224, 500, 380)]   // 1/4 would be 250 x 190: too short
    [InlineData(2000, 1500, 224, 224, 500, 375)]  // 1/8 would be 250 x 188: too short
    [InlineData(600, 600, 224, 224, 300, 300)]
    [InlineData(448, 448, 224, 224, 224, 224)]    // exactly half
    [InlineData(400, 400, 224, 224, 400, 400)]    // half would be 200: no reduction
    [InlineData(1601, 1203, 200, 150, 201, 151)]  // 1/8, sizes rounded up as libjpeg does
    public void TakesTheLargestReductionThatStillCoversTheResizedImage(int w, int h, int width, int height, int decodedW, int decodedH)
    {
        var jpeg = TestImages.Jpeg(TestImages.Draw(w, h, seed: 5, noise: 0));
        var layout = TestImages.Layout(new ImageInputOptions { Width = width, Height = height });
        var (_, info) = TestImages.Decode(layout, jpeg);
        Assert.Equal((w, h, decodedW, decodedH), (info.SourceWidth, info.SourceHeight, info.DecodedWidth, info.DecodedHeight));
    }

    [Fact]
    public void TheCropModeComparesWithTheResizedSizeNotTheCrop()
    {
        // ImageNet's Resize(256) of 1000x750 is 341x256: 1/2 (500x375) covers it, 1/4 (250x188) does not.
        var jpeg = TestImages.Jpeg(TestImages.Draw(1000, 750, seed: 6, noise: 0));
        var layout = TestImages.Layout(ImageInputOptions.ImageNet(), "float", ImageLayout.Nchw);
        var (_, info) = TestImages.Decode(layout, jpeg);
        Assert.Equal((500, 375), (info.DecodedWidth, info.DecodedHeight));
    }

    [Fact]
    public void OffOrNotAJpegDecodesInFull()
    {
        var image = TestImages.Draw(800, 600, seed: 7, noise: 0);
        var off = TestImages.Layout(new ImageInputOptions { Width = 100, Height = 100, ReducedDecode = false });
        Assert.False(TestImages.Decode(off, TestImages.Jpeg(image)).Info.Reduced);
        var on = TestImages.Layout(new ImageInputOptions { Width = 100, Height = 100 });
        Assert.False(TestImages.Decode(on, TestImages.Png(image)).Info.Reduced);
        Assert.True(TestImages.Decode(on, TestImages.Jpeg(image)).Info.Reduced);
    }

    /// <summary>
    /// Reduced against full decode of the same JPEG, raw pixels. On photo-like content (smooth shapes and
    /// noise) the mean difference stays under 1 level and the worst under 8 (measured: see the output); on
    /// sharp edges (the 210-level checkerboard of <see cref="TestImages.Draw(int,int,int,double)"/>) it is
    /// several levels on average and tens at the edges: the DCT's own downscaling averages neighbours
    /// differently from the triangle filter, so edges are softer. Hence the option.
    /// </summary>
    [Theory]
    [InlineData(1000, 750, "stretch", false, 1.0, 8)]
    [InlineData(1000, 750, "crop", false, 1.0, 8)]
    [InlineData(1800, 1200, "stretch", false, 1.0, 8)]
    [InlineData(1000, 750, "stretch", true, 6.0, 64)]
    [InlineData(1000, 750, "crop", true, 6.0, 64)]
    public void ValuesStayCloseToAFullDecode(int w, int h, string mode, bool sharp, double meanAllowed, int worstAllowed)
    {
        var image = sharp ? TestImages.Draw(w, h, seed: 8) : TestImages.DrawSmooth(w, h, seed: 8);
        var jpeg = TestImages.Jpeg(image);
        ImageInputOptions Options(bool reduced) => mode == "stretch"
            ? new() { Width = 224, Height = 224, ReducedDecode = reduced }
            : new() { Resize = ImageResize.ShorterSideThenCenterCrop, ResizeTo = 256, Width = 224, Height = 224, ReducedDecode = reduced };
        var (full, fullInfo) = TestImages.Decode(TestImages.Layout(Options(false)), jpeg);
        var (reduced, reducedInfo) = TestImages.Decode(TestImages.Layout(Options(true)), jpeg);
        Assert.False(fullInfo.Reduced);
        Assert.True(reducedInfo.Reduced);

        double mean = full.Zip(reduced).Average(p => Math.Abs(p.First - p.Second));
        int worst = full.Zip(reduced).Max(p => Math.Abs(p.First - p.Second));
        output.WriteLine($"{w}x{h} {(sharp ? "sharp" : "smooth")} {mode}, decoded at {reducedInfo.DecodedWidth}x{reducedInfo.DecodedHeight}: mean {mean:F3} levels, worst {worst}");
        Assert.True(mean < meanAllowed, $"mean difference {mean:F3} levels");
        Assert.True(worst < worstAllowed, $"worst difference {worst} levels");
    }
}
