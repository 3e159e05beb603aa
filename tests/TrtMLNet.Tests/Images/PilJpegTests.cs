using TrtMLNet.Images;

namespace TrtMLNet.Tests.Images;

/// <summary>
/// JPEGs that PIL encoded and decoded (RGB 4:2:0, grayscale, CMYK), against the decoder here, which decodes
/// them with SkiaSharp's libjpeg-turbo instead of the system's. Unlike the PNG fixtures this compares
/// decoders as well as the resize. Measured: the same bytes (both are libjpeg-turbo's accurate integer IDCT
/// with fancy upsampling; both read PIL's Adobe CMYK as inverted and convert it to RGB alike), so 0 is required.
/// ReducedDecode is off: PIL decodes
/// in full unless asked (<c>Image.draft</c>), and a reduced decode differs by design.
/// </summary>
public class PilJpegTests(ITestOutputHelper output)
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Images", "fixtures");

    [Theory]
    [InlineData("photo_64x48.jpg", 64, 48, "photo_64x48.stretch_64x48.rgb", 0)]
    [InlineData("photo_64x48.jpg", 30, 20, "photo_64x48.stretch_30x20.rgb", 0)]
    [InlineData("gray_40x30.jpg", 40, 30, "gray_40x30.stretch_40x30.rgb", 0)]
    [InlineData("cmyk_40x30.jpg", 40, 30, "cmyk_40x30.stretch_40x30.rgb", 0)]
    [InlineData("exif_rotated_32x24.jpg", 32, 24, "exif_rotated_32x24.stretch_32x24.rgb", 0)] // EXIF orientation 6 is not applied, as by PIL
    public void MatchesPillowsDecodeAndResize(string image, int width, int height, string expectedFile, int levelsAllowed)
    {
        var layout = TestImages.Layout(new ImageInputOptions { Width = width, Height = height, ReducedDecode = false });
        var (slot, _) = TestImages.Decode(layout, File.ReadAllBytes(Path.Combine(Fixtures, image)));
        var expected = File.ReadAllBytes(Path.Combine(Fixtures, expectedFile));

        int worst = expected.Zip(slot).Max(p => Math.Abs(p.First - p.Second));
        int differing = expected.Zip(slot).Count(p => p.First != p.Second);
        output.WriteLine($"{image} -> {width}x{height}: {differing} of {expected.Length} values differ, worst by {worst} levels");
        Assert.True(worst <= levelsAllowed, $"{differing} values differ from Pillow's, the worst by {worst} levels (allowed {levelsAllowed}).");
    }
}
