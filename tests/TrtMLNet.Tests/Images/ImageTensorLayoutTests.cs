using System.Text.Json;
using System.Text.Json.Serialization;
using TrtMLNet.Images;

namespace TrtMLNet.Tests.Images;

public class ImageTensorLayoutTests
{
    private static ImageTensorLayout Create(ImageInputOptions options, string type, params long[] shape) =>
        ImageTensorLayout.Create(options, "pixel_values", type, shape);

    [Fact]
    public void LayoutSizeAndTypeComeFromTheTensor()
    {
        var nchw = Create(new ImageInputOptions(), "float", -1, 3, 224, 200);
        Assert.Equal((ImageLayout.Nchw, 200, 224, ImageElementType.Float32), (nchw.Layout, nchw.Width, nchw.Height, nchw.ElementType));
        Assert.Equal(200 * 224 * 3 * 4, nchw.RowBytes);

        var nhwc = Create(new ImageInputOptions(), "uint8", 1, 64, 32, 3);
        Assert.Equal((ImageLayout.Nhwc, 32, 64, ImageElementType.UInt8), (nhwc.Layout, nhwc.Width, nhwc.Height, nhwc.ElementType));
        Assert.Equal(ImageElementType.Float16, Create(new ImageInputOptions(), "float16", -1, 3, 8, 8).ElementType);
    }

    [Fact]
    public void ScaleAndBiasMapPixelsAsToTensorThenNormalize()
    {
        var layout = Create(ImageInputOptions.ImageNet(), "float", -1, 3, 224, 224);
        for (int c = 0; c < 3; c++)
        {
            float expected = (200 / 255f - ImageInputOptions.ImageNetMean[c]) / ImageInputOptions.ImageNetStd[c];
            Assert.Equal(expected, 200 * layout.Scale[c] + layout.Bias[c], 1e-5f);
        }
        Assert.Equal((ImageResize.ShorterSideThenCenterCrop, 256), (layout.Resize, layout.ResizeTo));
    }

    [Fact]
    public void Uint8TensorsTakeRawPixels()
    {
        var layout = Create(ImageInputOptions.ImageNet(), "uint8", -1, 224, 224, 3);
        Assert.Equal([1f, 1f, 1f], layout.Scale);
        Assert.Equal([0f, 0f, 0f], layout.Bias);
    }

    [Fact]
    public void ResizeToDefaultsToTheLargerSideOfTheCrop()
    {
        var layout = Create(new ImageInputOptions { Resize = ImageResize.ShorterSideThenCenterCrop, Width = 100, Height = 60 }, "float", -1, 3, -1, -1);
        Assert.Equal(100, layout.ResizeTo);
    }

    [Theory]
    [InlineData("int64", new long[] { -1, 3, 8, 8 }, "int64 tensor; images can feed float, float16 or uint8")]
    [InlineData("float", new long[] { -1, 3, 8 }, "shape [?,3,8]; an image tensor must be [N,3,H,W] (NCHW) or [N,H,W,3] (NHWC)")]
    [InlineData("float", new long[] { -1, 4, 8, 8 }, "3 channels in dimension 1 (NCHW) or in the last (NHWC)")]
    [InlineData("float", new long[] { -1, 3, 8, 3 }, "could be NCHW or NHWC; set Layout")]
    [InlineData("float", new long[] { -1, 3, -1, -1 }, "whose height is open; set Height")]
    public void TensorsThatCannotTakeImagesAreNamedAndExplained(string type, long[] shape, string words)
    {
        var e = Assert.Throws<ArgumentException>(() => Create(new ImageInputOptions(), type, shape));
        Assert.Contains("Image input 'pixel_values'", e.Message);
        Assert.Contains(words, e.Message);
    }

    [Fact]
    public void OptionsThatContradictTheTensorOrAreMalformedAreExplained()
    {
        void Fails(ImageInputOptions options, string words, params long[] shape)
        {
            var e = Assert.Throws<ArgumentException>(() => Create(options, "float", shape.Length == 0 ? [-1, 3, 224, 224] : shape));
            Assert.Contains("'pixel_values'", e.Message);
            Assert.Contains(words, e.Message);
        }
        Fails(new() { Width = 256 }, "whose width is 224, but the image options ask for Width 256");
        Fails(new() { Mean = [0.5f, 0.5f] }, "Mean has 2 values; give one per channel (3)");
        Fails(new() { Std = [0.2f, 0f, 0.2f] }, "Std[1] is 0");
        Fails(new() { Std = [0.2f, 0.2f, 0.2f, 0.2f] }, "Std has 4 values");
        Fails(new() { PixelScale = 0 }, "PixelScale is 0");
        Fails(new() { Layout = ImageLayout.Nhwc }, "as NHWC it has 224 channels");
        Fails(new() { Resize = ImageResize.ShorterSideThenCenterCrop, ResizeTo = 0 }, "ResizeTo is 0");
    }

    [Fact]
    public void AnExplicitLayoutOpensAnOpenChannelDimension()
    {
        var layout = Create(new ImageInputOptions { Layout = ImageLayout.Nhwc }, "float", -1, 32, 32, -1);
        Assert.Equal(ImageLayout.Nhwc, layout.Layout);
    }

    [Fact]
    public void OptionsRoundTripThroughJson()
    {
        var options = ImageInputOptions.ImageNet("image_path");
        options.ImageFolder = "/data/images";
        options.ChannelOrder = ImageChannelOrder.Bgr;
        options.Layout = ImageLayout.Nhwc;
        options.PixelScale = 1;
        options.ReducedDecode = false;
        options.OnBadImage = BadImagePolicy.Skip;
        options.Decoder = ImageDecoderKind.Cpu;
        options.GpuJpeg = GpuJpegDecoding.HardwareEngine;
        options.GpuJpegThreads = 6;
        var json = new JsonSerializerOptions { Converters = { new JsonStringEnumConverter() } };

        string text = JsonSerializer.Serialize(options, json);
        var back = JsonSerializer.Deserialize<ImageInputOptions>(text, json)!;

        Assert.Contains("\"ShorterSideThenCenterCrop\"", text);
        Assert.Equal(text, JsonSerializer.Serialize(back, json));
        Assert.Equal(options.Mean, back.Mean);
        Assert.Equal((ImageResize.ShorterSideThenCenterCrop, 256, 224, 224), (back.Resize, back.ResizeTo, back.Width, back.Height));
        Assert.Equal((BadImagePolicy.Skip, ImageDecoderKind.Cpu, false), (back.OnBadImage, back.Decoder, back.ReducedDecode));
        Assert.Equal((GpuJpegDecoding.HardwareEngine, 6), (back.GpuJpeg, back.GpuJpegThreads));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void GpuJpegThreadsBelowOneIsRefusedNamingTheInput(int threads)
    {
        var options = ImageInputOptions.ImageNet();
        options.GpuJpegThreads = threads;

        var error = Assert.Throws<ArgumentException>(() => ImageTensorLayout.Create(options, "pixels", "float", [-1, 3, 224, 224]));

        Assert.Equal($"Image input 'pixels': GpuJpegThreads is {threads}; it must be at least 1, or null for every core.", error.Message);
    }
}
