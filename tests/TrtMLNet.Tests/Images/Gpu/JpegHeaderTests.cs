using SkiaSharp;
using TrtMLNet.Images.Gpu;

namespace TrtMLNet.Tests.Images.Gpu;

/// <summary>Which images the GPU path takes, hands to the CPU path, or rejects, from their headers alone.</summary>
public class JpegHeaderTests
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Images", "Gpu", "fixtures");

    private static byte[] Baseline(int width = 64, int height = 48) => TestImages.Jpeg(TestImages.Draw(width, height, seed: 1));

    [Fact]
    public void ABaselineJpegGoesToNvJpegWithItsSize()
    {
        var header = JpegHeader.Read(Baseline(64, 48));

        Assert.Equal(JpegHeaderVerdict.NvJpeg, header.Verdict);
        Assert.Equal((64, 48, 3, false), (header.Width, header.Height, header.Components, header.Progressive));
    }

    [Fact]
    public void AJpegCutInItsImageDataGoesToTheCpuWhichReportsItAndZeroPaddingDoesNot()
    {
        // nvJPEG decodes a cut-off file without a word; libjpeg on the CPU says it is truncated.
        var jpeg = TestImages.Jpeg(TestImages.Photo(500, 375, seed: 3));
        var cut = JpegHeader.Read(jpeg[..(jpeg.Length * 2 / 3)]);
        var padded = JpegHeader.Read([.. jpeg, 0, 0, 0, 0]);

        Assert.Equal(JpegHeaderVerdict.Cpu, cut.Verdict);
        Assert.Contains("end-of-image marker", cut.Reason);
        Assert.Equal(JpegHeaderVerdict.NvJpeg, padded.Verdict);
    }

    [Fact]
    public void AProgressiveJpegGoesToNvJpegMarkedProgressive()
    {
        var header = JpegHeader.Read(File.ReadAllBytes(Path.Combine(Fixtures, "progressive_96x72.jpg")));

        Assert.Equal(JpegHeaderVerdict.NvJpeg, header.Verdict);
        Assert.True(header.Progressive);
        Assert.Equal((96, 72), (header.Width, header.Height));
    }

    [Fact]
    public void AGrayJpegGoesToNvJpegWithOneComponent()
    {
        using var bitmap = new SKBitmap(new SKImageInfo(40, 30, SKColorType.Gray8));
        bitmap.Erase(new SKColor(90, 90, 90));
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90);

        var header = JpegHeader.Read(data.ToArray());

        Assert.Equal(JpegHeaderVerdict.NvJpeg, header.Verdict);
        Assert.Equal(1, header.Components);
    }

    [Theory]
    [InlineData("cmyk_96x72.jpg", "CMYK")]
    public void FourComponentJpegsGoToTheCpu(string file, string expected)
    {
        var header = JpegHeader.Read(File.ReadAllBytes(Path.Combine(Fixtures, file)));

        Assert.Equal(JpegHeaderVerdict.Cpu, header.Verdict);
        Assert.Contains(expected, header.Reason);
    }

    [Fact]
    public void OtherFormatsGoToTheCpuNamed()
    {
        var png = JpegHeader.Read(TestImages.Png(TestImages.Draw(8, 8, 1)));

        Assert.Equal(JpegHeaderVerdict.Cpu, png.Verdict);
        Assert.Contains("PNG", png.Reason);
        Assert.Contains("BMP", JpegHeader.Read("BM\0\0\0\0"u8).Reason);
        Assert.Contains("unknown", JpegHeader.Read("hello"u8).Reason);
    }

    [Fact]
    public void TwelveBitArithmeticAndLosslessJpegsGoToTheCpu()
    {
        var jpeg = Baseline();
        int sof = IndexOfMarker(jpeg, 0xC0);

        var twelveBit = (byte[])jpeg.Clone();
        twelveBit[sof + 4] = 12; // the precision byte follows the marker and the 2-byte length
        Assert.Contains("12-bit", JpegHeader.Read(twelveBit).Reason);

        var arithmetic = (byte[])jpeg.Clone();
        arithmetic[sof + 1] = 0xC9;
        Assert.Equal(JpegHeaderVerdict.Cpu, JpegHeader.Read(arithmetic).Verdict);
        Assert.Contains("arithmetic", JpegHeader.Read(arithmetic).Reason);

        var lossless = (byte[])jpeg.Clone();
        lossless[sof + 1] = 0xC3;
        Assert.Contains("lossless", JpegHeader.Read(lossless).Reason);
    }

    [Fact]
    public void AnRgbCodedJpegGoesToTheCpu()
    {
        // Component ids 'R', 'G', 'B' and no JFIF marker: libjpeg (and so PIL) reads the components as RGB.
        var jpeg = Baseline();
        int app0 = IndexOfMarker(jpeg, 0xE0);
        jpeg[app0 + 4] = (byte)'X'; // no longer "JFIF"
        int sof = IndexOfMarker(jpeg, 0xC0);
        jpeg[sof + 10] = (byte)'R';
        jpeg[sof + 13] = (byte)'G';
        jpeg[sof + 16] = (byte)'B';

        var header = JpegHeader.Read(jpeg);

        Assert.Equal(JpegHeaderVerdict.Cpu, header.Verdict);
        Assert.Contains("RGB", header.Reason);
    }

    [Fact]
    public void AJpegCutInsideItsHeadersIsTruncatedAndOneCutInItsDataIsLeftToTheCpu()
    {
        var jpeg = Baseline();
        int sos = IndexOfMarker(jpeg, 0xDA);

        Assert.Equal(JpegHeaderVerdict.Truncated, JpegHeader.Read(jpeg.AsSpan(0, sos)).Verdict);
        Assert.Equal(JpegHeaderVerdict.Truncated, JpegHeader.Read(jpeg.AsSpan(0, 25)).Verdict);
        // Cut inside the entropy-coded data the headers are whole, but the end marker is missing: libjpeg finds out.
        Assert.Equal(JpegHeaderVerdict.Cpu, JpegHeader.Read(jpeg.AsSpan(0, jpeg.Length / 2)).Verdict);
    }

    [Fact]
    public void DamagedHeadersAreCorruptOrLeftToLibjpeg()
    {
        var jpeg = Baseline();
        var noFrame = jpeg.AsSpan(0, IndexOfMarker(jpeg, 0xC0)).ToArray().Concat(new byte[] { 0xFF, 0xD9 }).ToArray();
        Assert.Equal(JpegHeaderVerdict.Corrupt, JpegHeader.Read(noFrame).Verdict);

        var stray = (byte[])jpeg.Clone();
        stray[IndexOfMarker(jpeg, 0xDB)] = 0x00; // a marker's 0xFF replaced: libjpeg would skip ahead with a warning
        Assert.Equal(JpegHeaderVerdict.Cpu, JpegHeader.Read(stray).Verdict);
    }

    private static int IndexOfMarker(byte[] jpeg, byte marker)
    {
        for (int i = 2; i + 1 < jpeg.Length; i++)
            if (jpeg[i] == 0xFF && jpeg[i + 1] == marker)
                return i;
        throw new InvalidOperationException($"No marker 0xFF{marker:X2} in the test JPEG.");
    }
}
