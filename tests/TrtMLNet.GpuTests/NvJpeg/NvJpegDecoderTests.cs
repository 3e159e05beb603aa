using System.Globalization;
using TrtMLNet.GpuTests.Support;
using TrtMLNet.Images;
using TrtMLNet.Images.Gpu;
using TrtMLNet.Tests.Images;
using TrtMLNet.Tests.Images.Gpu;

namespace TrtMLNet.GpuTests.NvJpeg;

/// <summary>
/// The GPU image path on a real GPU: nvJPEG decodes, the resize kernels write the engine's rows. Two kinds of
/// checks: exact (the kernels against ResizeKernelReference on nvJPEG's own decoded pixels: the same bytes,
/// float and half included), and against the CPU path (CpuImageDecoder: SkiaSharp's libjpeg-turbo, then the
/// same PIL arithmetic), where only the JPEG decoders differ (IDCT rounding, chroma upsampling), within the
/// limits stated below on the 0..255 pixel scale.
/// </summary>
public class NvJpegDecoderTests
{
    /// <summary>Largest difference from the CPU path allowed for any value, in pixel levels (0..255).</summary>
    private const double MaxLevels = 32;

    /// <summary>Mean difference from the CPU path allowed over a batch, in pixel levels.</summary>
    private const double MeanLevels = 2.0;

    private static byte[][] PhotoJpegs() =>
    [
        TestImages.Jpeg(NvJpegGpu.Photo(500, 375, 1)),
        TestImages.Jpeg(NvJpegGpu.Photo(375, 500, 2)),
        TestImages.Jpeg(NvJpegGpu.Photo(640, 427, 3), quality: 75),
        TestImages.Jpeg(NvJpegGpu.Photo(500, 375, 4)),
        NvJpegGpu.Fixture("progressive_96x72.jpg"),
        NvJpegGpu.Fixture("baseline444_80x60.jpg"),
    ];

    public static TheoryData<string, string, ImageLayout, ImageChannelOrder> Formats() => new()
    {
        { "stretch", "float", ImageLayout.Nchw, ImageChannelOrder.Rgb },
        { "stretch", "uint8", ImageLayout.Nhwc, ImageChannelOrder.Rgb },
        { "stretch", "float16", ImageLayout.Nhwc, ImageChannelOrder.Bgr },
        { "imagenet", "float", ImageLayout.Nchw, ImageChannelOrder.Rgb },
        { "imagenet", "float16", ImageLayout.Nchw, ImageChannelOrder.Rgb },
        { "imagenet", "uint8", ImageLayout.Nchw, ImageChannelOrder.Bgr },
        { "imagenet", "float", ImageLayout.Nhwc, ImageChannelOrder.Bgr },
    };

    private static ImageTensorLayout LayoutFor(string resize, string type, ImageLayout layout, ImageChannelOrder order)
    {
        var options = resize == "imagenet" ? ImageInputOptions.ImageNet() : new ImageInputOptions { Width = 160, Height = 120 };
        options.ChannelOrder = order;
        return NvJpegGpu.Layout(options, type, layout);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void TheKernelsWriteExactlyWhatTheReferenceComputesFromNvJpegsPixels(string resize, string type, ImageLayout tensorLayout, ImageChannelOrder order)
    {
        var device = NvJpegGpu.Require();
        var layout = LayoutFor(resize, type, tensorLayout, order);
        var jpegs = PhotoJpegs();
        using var decoder = new NvJpegBatchDecoder(device);
        using var run = new NvJpegGpu.Run(device, jpegs, layout);

        var (result, rows) = run.Decode(decoder);
        var decoded = run.DecodedPixels(decoder);

        Assert.Equal(jpegs.Length, result.Decoded);
        Assert.Empty(result.ForCpu);
        for (int i = 0; i < jpegs.Length; i++)
        {
            var expected = SimulatedBatch.Run(layout, [decoded[i]])[0];
            int differing = expected.Zip(rows[i]).Count(p => p.First != p.Second);
            Assert.True(differing == 0, $"Image {i} ({decoded[i].Width} x {decoded[i].Height}): {differing} of {expected.Length} bytes differ from the reference on the same decoded pixels.");
        }
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void MatchesTheCpuPathWithinJpegDecoderDifferences(string resize, string type, ImageLayout tensorLayout, ImageChannelOrder order)
    {
        var device = NvJpegGpu.Require();
        var layout = LayoutFor(resize, type, tensorLayout, order);
        var jpegs = PhotoJpegs();
        using var decoder = new NvJpegBatchDecoder(device);
        using var run = new NvJpegGpu.Run(device, jpegs, layout);

        var (result, rows) = run.Decode(decoder);

        var (max, mean, perImage) = DifferenceFromTheCpuPath(layout, jpegs, rows);
        Gpu.Note(string.Create(CultureInfo.InvariantCulture,
            $"{resize} {type} {tensorLayout} {order}: GPU vs CPU path, levels of 0..255: max {max:0.##}, mean {mean:0.###} (per image max/mean: {string.Join(", ", perImage)}); {decoder.Setup}; hardware-decoded {result.HardwareDecoded}, other {result.OtherDecoded}"));
        Assert.True(max <= MaxLevels, $"Largest difference {max:0.##} levels > {MaxLevels}.");
        Assert.True(mean <= MeanLevels, $"Mean difference {mean:0.###} levels > {MeanLevels}.");
    }

    [Fact]
    public void TheHardwareDecoderDecodesBaselineJpegsAndTheRestGoesElsewhere()
    {
        var device = NvJpegGpu.Require();
        var layout = LayoutFor("imagenet", "float", ImageLayout.Nchw, ImageChannelOrder.Rgb);
        var jpegs = PhotoJpegs();
        using var hardware = new NvJpegBatchDecoder(device);
        using var plain = new NvJpegBatchDecoder(device, new NvJpegDecoderOptions { UseHardwareDecoder = false });
        using var run = new NvJpegGpu.Run(device, jpegs, layout);

        var (hw, hwRows) = run.Decode(hardware);
        var (other, otherRows) = run.Decode(plain);

        Gpu.Note($"hardware decoder: {hardware.Setup}; decoded {hw.HardwareDecoded} by the engine, {hw.OtherDecoded} otherwise\ndefault backend: {plain.Setup}; decoded {other.OtherDecoded}");
        Assert.False(plain.UsesHardwareDecoder);
        Assert.Equal(jpegs.Length, other.OtherDecoded);
        if (device.Name.Contains("A100") || device.Name.Contains("H100") || device.Name.Contains("H200") || device.Name.Contains("H20"))
        {
            Assert.True(hardware.UsesHardwareDecoder, $"{device.Name} has JPEG engines, but: {hardware.Setup}");
            Assert.True(hw.HardwareDecoded >= 4, $"Only {hw.HardwareDecoded} of the 5 baseline JPEGs went to the engine.");
            Assert.True(hw.OtherDecoded >= 1, "The progressive JPEG should go to the default backend.");
        }
        for (int i = 0; i < jpegs.Length; i++)
        {
            var (max, mean) = NvJpegGpu.Difference(NvJpegGpu.PixelScale(layout, hwRows[i]), NvJpegGpu.PixelScale(layout, otherRows[i]));
            Gpu.Note(string.Create(CultureInfo.InvariantCulture, $"image {i}: hardware vs default backend, max {max:0.##}, mean {mean:0.###} levels"));
            Assert.True(max <= MaxLevels && mean <= MeanLevels, $"Image {i}: the backends differ by max {max}, mean {mean} levels.");
        }
    }

    [Fact]
    public void InterpolatedChromaUpsamplingIsMeasured()
    {
        var device = NvJpegGpu.Require();
        var layout = LayoutFor("imagenet", "float", ImageLayout.Nchw, ImageChannelOrder.Rgb);
        var jpegs = PhotoJpegs();
        using var decoder = new NvJpegBatchDecoder(device, new NvJpegDecoderOptions { InterpolatedChromaUpsampling = true });
        using var run = new NvJpegGpu.Run(device, jpegs, layout);

        var (result, rows) = run.Decode(decoder);

        Assert.Equal(jpegs.Length, result.Decoded);
        double max = 0, sum = 0;
        for (int i = 0; i < jpegs.Length; i++)
        {
            var (cpu, _) = TestImages.Decode(layout, jpegs[i]);
            var (m, mean) = NvJpegGpu.Difference(NvJpegGpu.PixelScale(layout, cpu), NvJpegGpu.PixelScale(layout, rows[i]));
            max = Math.Max(max, m);
            sum += mean;
        }
        Gpu.Note(string.Create(CultureInfo.InvariantCulture,
            $"interpolated chroma upsampling asked: {decoder.Setup}; hardware-decoded {result.HardwareDecoded}, other {result.OtherDecoded}; GPU vs CPU path max {max:0.##}, mean {sum / jpegs.Length:0.###} levels"));
        Assert.True(max <= MaxLevels && sum / jpegs.Length <= MeanLevels, $"max {max}, mean {sum / jpegs.Length}");
    }

    [Fact]
    public void APngAndACmykJpegAreHandedToTheCpuAndTheirRowsLeftAlone()
    {
        var device = NvJpegGpu.Require();
        var layout = LayoutFor("imagenet", "float", ImageLayout.Nchw, ImageChannelOrder.Rgb);
        byte[][] images =
        [
            TestImages.Jpeg(NvJpegGpu.Photo(300, 200, 5)),
            TestImages.Png(NvJpegGpu.Photo(64, 64, 6)),
            NvJpegGpu.Fixture("cmyk_96x72.jpg"),
            TestImages.Jpeg(NvJpegGpu.Photo(200, 300, 7)),
        ];
        using var decoder = new NvJpegBatchDecoder(device);
        using var run = new NvJpegGpu.Run(device, images, layout);

        var (result, rows) = run.Decode(decoder, fill: 0x5A);

        Assert.Equal([1, 2], result.ForCpu.Select(f => f.Index));
        Assert.Contains("PNG", result.ForCpu[0].Reason);
        Assert.Contains("CMYK", result.ForCpu[1].Reason);
        Assert.Equal("image 2", result.ForCpu[1].Source);
        Assert.All(rows[1], b => Assert.Equal(0x5A, b));
        Assert.All(rows[2], b => Assert.Equal(0x5A, b));
        Assert.Equal(2, result.Decoded);
        Assert.Empty(result.BadImages);
        Gpu.Note($"handed to the CPU: {string.Join("; ", result.ForCpu)}");
    }

    [Fact]
    public void ATruncatedJpegIsAnErrorNamingItOrASkippedZeroedRow()
    {
        var device = NvJpegGpu.Require();
        var layout = LayoutFor("imagenet", "uint8", ImageLayout.Nchw, ImageChannelOrder.Rgb);
        var whole = TestImages.Jpeg(NvJpegGpu.Photo(300, 200, 8));
        int sos = IndexOfMarker(whole, 0xDA);
        byte[][] images = [whole, whole[..(sos / 2)], whole];
        using var decoder = new NvJpegBatchDecoder(device);
        using var run = new NvJpegGpu.Run(device, images, layout);

        var error = Assert.Throws<ImageDecodeException>(() => run.Decode(decoder));
        Assert.Equal("image 1", error.ImageSource);
        Assert.Equal(ImageDecodeFailure.Truncated, error.Failure);
        Assert.Contains("OnBadImage = Skip", error.Message);

        var (result, rows) = run.Decode(decoder, BadImagePolicy.Skip, fill: 0x5A);
        var bad = Assert.Single(result.BadImages);
        Assert.Equal((1, 1L, "image 1", ImageDecodeFailure.Truncated), (bad.Index, bad.Row, bad.Source, bad.Failure));
        Assert.All(rows[1], b => Assert.Equal(0, b));
        Assert.Equal(rows[0], rows[2]);
        Assert.Equal(2, result.Decoded);
        Gpu.Note($"truncated in its headers: {error.Message}");
    }

    [Fact]
    public void AJpegCutInItsImageDataIsLeftToTheCpuWhichReportsIt()
    {
        // nvJPEG decodes a file cut off in its image data without a word (seen on the H200's hardware
        // decoder: the image input's test found such a row scored, where the CPU path reported it). A JPEG
        // that does not end with its end-of-image marker therefore never reaches nvJPEG.
        var device = NvJpegGpu.Require();
        var layout = LayoutFor("imagenet", "uint8", ImageLayout.Nchw, ImageChannelOrder.Rgb);
        var whole = TestImages.Jpeg(NvJpegGpu.Photo(300, 200, 9));
        byte[][] images = [whole, whole[..(whole.Length * 2 / 3)], whole];
        using var decoder = new NvJpegBatchDecoder(device);
        using var run = new NvJpegGpu.Run(device, images, layout);

        var (result, rows) = run.Decode(decoder, BadImagePolicy.Skip);

        Assert.Equal(rows[0], rows[2]);
        Assert.Equal(2, result.Decoded);
        var cpu = Assert.Single(result.ForCpu);
        Assert.Equal(1, cpu.Index);
        Assert.Contains("end-of-image marker", cpu.Reason);
    }

    [Fact]
    public void ABatchDoneInPartsWritesTheSameRows()
    {
        var device = NvJpegGpu.Require();
        var layout = LayoutFor("imagenet", "float", ImageLayout.Nhwc, ImageChannelOrder.Rgb);
        var jpegs = PhotoJpegs().Concat(PhotoJpegs()).ToArray();
        using var whole = new NvJpegBatchDecoder(device);
        using var parts = new NvJpegBatchDecoder(device, new NvJpegDecoderOptions { MaxDecodedBytes = 1 << 20 }); // about two images at a time
        using var run = new NvJpegGpu.Run(device, jpegs, layout);

        var (a, rowsWhole) = run.Decode(whole);
        var (b, rowsParts) = run.Decode(parts);

        Assert.Equal(jpegs.Length, a.Decoded);
        Assert.Equal(jpegs.Length, b.Decoded);
        for (int i = 0; i < jpegs.Length; i++)
            Assert.Equal(rowsWhole[i], rowsParts[i]);
    }

    [Fact]
    public void TwoLanesDecodeAtOnceEachIntoItsOwnRows()
    {
        var device = NvJpegGpu.Require();
        var layout = LayoutFor("imagenet", "float16", ImageLayout.Nchw, ImageChannelOrder.Rgb);
        var jpegsA = Enumerable.Range(0, 16).Select(i => TestImages.Jpeg(NvJpegGpu.Photo(500, 375, 100 + i))).ToArray();
        var jpegsB = Enumerable.Range(0, 16).Select(i => TestImages.Jpeg(NvJpegGpu.Photo(375, 500, 200 + i))).ToArray();
        byte[][] expectedA, expectedB;
        using (var single = new NvJpegBatchDecoder(device))
        {
            using var ra = new NvJpegGpu.Run(device, jpegsA, layout);
            using var rb = new NvJpegGpu.Run(device, jpegsB, layout);
            expectedA = ra.Decode(single).Rows;
            expectedB = rb.Decode(single).Rows;
        }

        int mismatches = 0;
        void Lane(byte[][] jpegs, byte[][] expected)
        {
            device.MakeCurrent();
            using var decoder = new NvJpegBatchDecoder(device);
            using var run = new NvJpegGpu.Run(device, jpegs, layout);
            for (int round = 0; round < 10; round++)
            {
                var rows = run.Decode(decoder).Rows;
                for (int i = 0; i < rows.Length; i++)
                    if (!rows[i].AsSpan().SequenceEqual(expected[i]))
                        Interlocked.Increment(ref mismatches);
            }
        }
        Parallel.Invoke(() => Lane(jpegsA, expectedA), () => Lane(jpegsB, expectedB));

        Assert.Equal(0, mismatches);
    }

    [Fact]
    public void TheHybridDecoderWritesTheSameRowsOnOneThreadAsOnManyAndMatchesTheCpuPath()
    {
        var device = NvJpegGpu.Require();
        var layout = LayoutFor("imagenet", "float", ImageLayout.Nchw, ImageChannelOrder.Rgb);
        // Sizes vary, so the workers take turns on the images in no fixed order.
        var jpegs = Enumerable.Range(0, 48).Select(i => TestImages.Jpeg(NvJpegGpu.Photo(300 + 7 * i, 200 + 5 * i, 300 + i))).Concat(PhotoJpegs()).ToArray();
        using var one = new NvJpegBatchDecoder(device, new NvJpegDecoderOptions { UseHardwareDecoder = false, HostThreads = 1 });
        using var many = new NvJpegBatchDecoder(device, new NvJpegDecoderOptions { UseHardwareDecoder = false, HostThreads = 8 });
        using var run = new NvJpegGpu.Run(device, jpegs, layout);

        var (a, rowsOne) = run.Decode(one);
        byte[][] rowsMany = [];
        for (int round = 0; round < 5; round++)
        {
            (var b, rowsMany) = run.Decode(many);
            Assert.Equal((0, jpegs.Length), (b.HardwareDecoded, b.OtherDecoded));
            for (int i = 0; i < jpegs.Length; i++)
                Assert.True(rowsOne[i].AsSpan().SequenceEqual(rowsMany[i]), $"Round {round}, image {i}: 8 threads wrote other values than 1 thread.");
        }

        Assert.Equal((0, jpegs.Length), (a.HardwareDecoded, a.OtherDecoded));
        Assert.False(many.UsesHardwareDecoder);
        var (max, mean, _) = DifferenceFromTheCpuPath(layout, jpegs, rowsMany);
        Gpu.Note(string.Create(CultureInfo.InvariantCulture,
            $"hybrid decoder, 8 threads, {jpegs.Length} JPEGs: GPU vs CPU path, max {max:0.##}, mean {mean:0.###} levels; {many.Setup}"));
        Assert.True(max <= MaxLevels, $"Largest difference {max:0.##} levels > {MaxLevels}.");
        Assert.True(mean <= MeanLevels, $"Mean difference {mean:0.###} levels > {MeanLevels}.");
    }

    /// <summary>
    /// How far <paramref name="rows"/> are from the CPU path's tensors of <paramref name="jpegs"/>, in pixel levels:
    /// the largest, the mean of the images' means, and each image's "max/mean".
    /// </summary>
    private static (double Max, double Mean, List<string> PerImage) DifferenceFromTheCpuPath(ImageTensorLayout layout, byte[][] jpegs, byte[][] rows)
    {
        double max = 0, sum = 0;
        var perImage = new List<string>();
        for (int i = 0; i < jpegs.Length; i++)
        {
            var (cpu, _) = TestImages.Decode(layout, jpegs[i]);
            var (imageMax, imageMean) = NvJpegGpu.Difference(NvJpegGpu.PixelScale(layout, cpu), NvJpegGpu.PixelScale(layout, rows[i]));
            max = Math.Max(max, imageMax);
            sum += imageMean;
            perImage.Add(string.Create(CultureInfo.InvariantCulture, $"{imageMax:0.##}/{imageMean:0.###}"));
        }
        return (max, sum / jpegs.Length, perImage);
    }

    private static int IndexOfMarker(byte[] jpeg, byte marker)
    {
        for (int i = 2; i + 1 < jpeg.Length; i++)
            if (jpeg[i] == 0xFF && jpeg[i + 1] == marker)
                return i;
        throw new InvalidOperationException($"No marker 0xFF{marker:X2}.");
    }
}
