using TrtMLNet.Images;

namespace TrtMLNet.Tests.Images;

/// <summary>
/// The decoder's pixels against Pillow's own, byte for byte: fixtures/make_pil_fixtures.py stored what
/// PIL's <c>resize(BILINEAR)</c> and torchvision's Resize + CenterCrop (in PIL calls) give on lossless
/// images (PNG, 16-bit PNG, BMP, a GIF's first frame, lossless WebP), so both sides start from the same pixels; the
/// RGBA, grayscale and palette PNGs check what PIL's <c>convert("RGB")</c> makes of them.
/// </summary>
public class PilExactnessTests
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Images", "fixtures");

    public static TheoryData<string, string, int, int, int, string> Cases()
    {
        var data = new TheoryData<string, string, int, int, int, string>();
        foreach (var line in File.ReadLines(Path.Combine(Fixtures, "manifest.txt")))
        {
            if (line.StartsWith('#') || string.IsNullOrWhiteSpace(line))
                continue;
            var f = line.Split(' ');
            data.Add(f[0], f[1], int.Parse(f[2]), int.Parse(f[3]), int.Parse(f[4]), f[5]);
        }
        return data;
    }

    [Fact]
    public void TheManifestListsEveryCase() => Assert.Equal(17, Cases().Count);

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPillowExactly(string image, string mode, int resizeTo, int width, int height, string expectedFile)
    {
        var layout = LayoutFor(mode, resizeTo, width, height);
        var (slot, _) = TestImages.Decode(layout, File.ReadAllBytes(Fixture(image)));
        AssertSameAsPillow(slot, expectedFile);
    }

    /// <summary>The layout a case of <see cref="Cases"/> asks for.</summary>
    internal static ImageTensorLayout LayoutFor(string mode, int resizeTo, int width, int height) => TestImages.Layout(new ImageInputOptions
    {
        Resize = mode == "stretch" ? ImageResize.Stretch : ImageResize.ShorterSideThenCenterCrop,
        ResizeTo = mode == "stretch" ? null : resizeTo,
        Width = width,
        Height = height,
    });

    internal static string Fixture(string name) => Path.Combine(Fixtures, name);

    /// <summary>Every value of <paramref name="actual"/> equals Pillow's in <paramref name="expectedFile"/>.</summary>
    internal static void AssertSameAsPillow(byte[] actual, string expectedFile)
    {
        var expected = File.ReadAllBytes(Fixture(expectedFile));
        Assert.Equal(expected.Length, actual.Length);
        int differing = expected.Zip(actual).Count(p => p.First != p.Second);
        Assert.True(differing == 0, $"{differing} of {expected.Length} values differ from Pillow's; the first at byte {FirstDifference(expected, actual)}.");
    }

    private static int FirstDifference(byte[] a, byte[] b)
    {
        for (int i = 0; i < a.Length; i++)
            if (a[i] != b[i])
                return i;
        return -1;
    }
}
