using TrtMLNet.Images;

namespace TrtMLNet.Tests.Images.Gpu;

/// <summary>
/// The GPU path's host side (taps, plan, tables) and its kernel arithmetic, as <see cref="ResizeKernelReference"/>
/// states it, against Pillow's own pixels and against the CPU path's bytes: if these hold, the GPU writes what
/// the CPU writes for the same decoded image, and any difference left on the GPU is the JPEG decoder's.
/// </summary>
public class ResizeKernelReferenceTests
{
    [Theory]
    [MemberData(nameof(PilExactnessTests.Cases), MemberType = typeof(PilExactnessTests))]
    public void MatchesPillowExactly(string image, string mode, int resizeTo, int width, int height, string expectedFile)
    {
        var layout = PilExactnessTests.LayoutFor(mode, resizeTo, width, height);
        var pixels = TestImages.DecodeFull(File.ReadAllBytes(PilExactnessTests.Fixture(image)));
        var row = SimulatedBatch.Run(layout, [pixels])[0];
        PilExactnessTests.AssertSameAsPillow(row, expectedFile);
    }

    public static TheoryData<string, ImageLayout, ImageChannelOrder, bool> Formats() => new()
    {
        { "uint8", ImageLayout.Nchw, ImageChannelOrder.Rgb, false },
        { "uint8", ImageLayout.Nhwc, ImageChannelOrder.Bgr, false },
        { "float", ImageLayout.Nchw, ImageChannelOrder.Rgb, true },
        { "float", ImageLayout.Nhwc, ImageChannelOrder.Bgr, true },
        { "float", ImageLayout.Nchw, ImageChannelOrder.Bgr, false },
        { "float16", ImageLayout.Nchw, ImageChannelOrder.Rgb, true },
        { "float16", ImageLayout.Nhwc, ImageChannelOrder.Rgb, false },
    };

    [Theory]
    [MemberData(nameof(Formats))]
    public void WritesTheCpuPathsBytesInEveryFormat(string type, ImageLayout tensorLayout, ImageChannelOrder order, bool imageNet)
    {
        var options = imageNet ? ImageInputOptions.ImageNet() : new ImageInputOptions { Width = 40, Height = 30 };
        options.ChannelOrder = order;
        options.ReducedDecode = false;
        if (imageNet)
        {
            options.ResizeTo = 48;
            options.Width = options.Height = 40;
        }
        var layout = TestImages.Layout(options, type, tensorLayout);
        // PNG: lossless, so the CPU path and the simulated GPU start from the same pixels.
        var png = TestImages.Png(TestImages.Draw(77, 53, seed: 3));

        var (cpu, _) = TestImages.Decode(layout, png);
        var gpu = SimulatedBatch.Run(layout, [TestImages.DecodeFull(png)])[0];

        Assert.Equal(cpu, gpu);
    }

    [Fact]
    public void EachImageOfABatchLandsInItsRowAndTheGapsAreUntouched()
    {
        var layout = TestImages.Layout(ImageInputOptions.ImageNet(), "float", ImageLayout.Nchw);
        RgbImage[] images = [TestImages.Draw(300, 200, 1), TestImages.Draw(180, 260, 2), TestImages.Draw(300, 200, 3), TestImages.Draw(224, 224, 4)];
        long rowBytes = layout.RowBytes + 4096;

        var (output, rows, plan) = SimulatedBatch.RunWhole(layout, images, rowBytes, fill: 0xAB);

        for (int i = 0; i < images.Length; i++)
        {
            var (alone, _) = TestImages.Decode(layout, TestImages.Png(images[i]));
            Assert.Equal(alone, rows[i]);
            Assert.All(output.AsSpan((int)(i * rowBytes + layout.RowBytes), 4096).ToArray(), b => Assert.Equal(0xAB, b));
        }
        // Two images of one size share their tables.
        Assert.Equal(plan.Jobs[0].HorizontalTaps, plan.Jobs[2].HorizontalTaps);
        Assert.Equal(plan.Jobs[0].VerticalTaps, plan.Jobs[2].VerticalTaps);
        Assert.NotEqual(plan.Jobs[0].HorizontalTaps, plan.Jobs[1].HorizontalTaps);
    }

    [Fact]
    public void ACropLargerThanTheResizedImageIsPaddedAsTheCpuPathPadsIt()
    {
        var options = new ImageInputOptions { Resize = ImageResize.ShorterSideThenCenterCrop, ResizeTo = 20, Width = 36, Height = 28, Mean = [0.5f, 0.5f, 0.5f], Std = [0.25f, 0.25f, 0.25f] };
        var layout = TestImages.Layout(options, "float", ImageLayout.Nchw);
        var png = TestImages.Png(TestImages.Draw(30, 20, seed: 9));

        var (cpu, _) = TestImages.Decode(layout, png);
        var gpu = SimulatedBatch.Run(layout, [TestImages.DecodeFull(png)])[0];

        Assert.Equal(cpu, gpu);
        Assert.Equal(-2f, BitConverter.ToSingle(gpu, 0)); // padding: pixel 0, then (0 - 0.5) / 0.25
    }
}
