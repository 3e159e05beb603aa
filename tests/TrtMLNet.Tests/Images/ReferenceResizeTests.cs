using TrtMLNet.Images;

namespace TrtMLNet.Tests.Images;

/// <summary>
/// Decoded, resized and normalised tensors against <see cref="ReferenceResize"/>, a double-precision
/// statement of the same filter written in the test, on the pixels SkiaSharp decodes at full size.
/// Tolerance: 1.5 pixel levels (times the channel's scale), plus float16's own rounding for float16 outputs.
/// PIL's arithmetic rounds twice (22-bit fixed-point weights, and the 8-bit image between the horizontal
/// and the vertical pass, each up to half a level, the first one then scaled by the vertical weights),
/// so it can differ from the exact value by about 1 level (the worst measured here is 1.0); 1.5 leaves room
/// without hiding a wrong tap or a shifted crop, which move values by tens of levels on these striped images.
/// </summary>
public class ReferenceResizeTests(ITestOutputHelper output)
{
    private const double LevelsAllowed = 1.5;

    public static TheoryData<string, int, int, string, int, int, int, string, ImageLayout, ImageChannelOrder> Cases() => new()
    {
        // format, source size, resize mode, N, output size, element type, layout, channel order
        { "png", 300, 200, "stretch", 0, 96, 80, "float", ImageLayout.Nchw, ImageChannelOrder.Rgb },
        { "jpeg", 200, 301, "crop", 64, 48, 48, "float", ImageLayout.Nhwc, ImageChannelOrder.Bgr },
        { "jpeg", 37, 23, "stretch", 0, 64, 48, "float16", ImageLayout.Nchw, ImageChannelOrder.Rgb },
        { "png", 64, 64, "crop", 40, 39, 32, "uint8", ImageLayout.Nchw, ImageChannelOrder.Rgb },
        { "jpeg", 500, 375, "crop", 256, 224, 224, "float", ImageLayout.Nchw, ImageChannelOrder.Rgb },
        { "png", 37, 23, "crop", 30, 40, 40, "float", ImageLayout.Nhwc, ImageChannelOrder.Rgb }, // zero padding
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTheDoublePrecisionFilter(string format, int sourceWidth, int sourceHeight, string mode, int n,
        int width, int height, string type, ImageLayout tensorLayout, ImageChannelOrder order)
    {
        var drawn = TestImages.Draw(sourceWidth, sourceHeight, seed: sourceWidth);
        var encoded = format == "png" ? TestImages.Png(drawn) : TestImages.Jpeg(drawn);
        var options = new ImageInputOptions
        {
            Resize = mode == "stretch" ? ImageResize.Stretch : ImageResize.ShorterSideThenCenterCrop,
            ResizeTo = n == 0 ? null : n,
            Width = width,
            Height = height,
            ChannelOrder = order,
            Mean = order == ImageChannelOrder.Bgr ? [0.406f, 0.456f, 0.485f] : ImageInputOptions.ImageNetMean,
            Std = order == ImageChannelOrder.Bgr ? [0.225f, 0.224f, 0.229f] : ImageInputOptions.ImageNetStd,
            ReducedDecode = false,
        };
        var layout = TestImages.Layout(options, type, tensorLayout);
        var (slot, _) = TestImages.Decode(layout, encoded);

        var source = TestImages.DecodeFull(encoded);
        var expected = mode == "stretch"
            ? ReferenceResize.Stretch(source, width, height)
            : ReferenceResize.ShorterSideThenCenterCrop(source, n, width, height);

        double worstLevels = 0;
        for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
        for (int c = 0; c < 3; c++)
        {
            int rgb = order == ImageChannelOrder.Bgr ? 2 - c : c;
            double pixel = expected[y, x, rgb];
            int index = tensorLayout == ImageLayout.Nchw ? (c * height + y) * width + x : (y * width + x) * 3 + c;
            double actual, wanted, allowed;
            switch (type)
            {
                case "uint8":
                    actual = slot[index];
                    wanted = pixel;
                    allowed = LevelsAllowed;
                    break;
                case "float16":
                    actual = (double)BitConverter.ToHalf(slot, index * 2);
                    wanted = (pixel / 255 - options.Mean![c]) / options.Std![c];
                    allowed = LevelsAllowed / 255 / options.Std[c] + Math.Abs(wanted) * Math.Pow(2, -11);
                    break;
                default:
                    actual = BitConverter.ToSingle(slot, index * 4);
                    wanted = (pixel / 255 - options.Mean![c]) / options.Std![c];
                    allowed = LevelsAllowed / 255 / options.Std[c] + 1e-5;
                    break;
            }
            double levels = type == "uint8" ? Math.Abs(actual - wanted) : Math.Abs(actual - wanted) * 255 * options.Std![c];
            worstLevels = Math.Max(worstLevels, levels);
            Assert.True(Math.Abs(actual - wanted) <= allowed,
                $"At x={x}, y={y}, channel {c}: {actual}, the exact filter gives {wanted} (pixel {pixel:F3}).");
        }
        output.WriteLine($"{format} {sourceWidth}x{sourceHeight} {mode} -> {width}x{height} {type}: worst difference {worstLevels:F3} levels");
    }
}
