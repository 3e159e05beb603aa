using TrtMLNet.Images;

namespace TrtMLNet.Tests.Images;

/// <summary>
/// Every layout, channel order and element type holds the same resampled pixels: each is checked against
/// the raw RGB pixels (uint8 NHWC RGB) of the same image, mapped the way torchvision maps them:
/// <c>(pixel / 255 - mean) / std</c>.
/// </summary>
public class OutputFormatTests
{
    private static readonly byte[] Jpeg = TestImages.Jpeg(TestImages.Draw(120, 90, seed: 11));
    private const int Width = 40, Height = 30;

    public static TheoryData<ImageLayout, ImageChannelOrder, string> Formats()
    {
        var data = new TheoryData<ImageLayout, ImageChannelOrder, string>();
        foreach (var layout in Enum.GetValues<ImageLayout>())
            foreach (var order in Enum.GetValues<ImageChannelOrder>())
                foreach (var type in new[] { "float", "float16", "uint8" })
                    data.Add(layout, order, type);
        return data;
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void EveryFormatHoldsTheSamePixels(ImageLayout layout, ImageChannelOrder order, string type)
    {
        float[] mean = [0.1f, 0.5f, 0.9f], std = [0.2f, 0.3f, 0.4f]; // in the tensor's channel order
        var raw = Raw();
        var options = new ImageInputOptions { Width = Width, Height = Height, ChannelOrder = order, Mean = mean, Std = std };
        var (slot, _) = TestImages.Decode(TestImages.Layout(options, type, layout), Jpeg);

        for (int y = 0; y < Height; y++)
        for (int x = 0; x < Width; x++)
        for (int c = 0; c < 3; c++)
        {
            byte pixel = raw[(y * Width + x) * 3 + (order == ImageChannelOrder.Bgr ? 2 - c : c)];
            int index = layout == ImageLayout.Nchw ? (c * Height + y) * Width + x : (y * Width + x) * 3 + c;
            float torchvision = (pixel / 255f - mean[c]) / std[c];
            switch (type)
            {
                case "uint8":
                    Assert.Equal(pixel, slot[index]); // raw pixels: no mean or std
                    break;
                case "float16":
                    Assert.Equal((double)(Half)torchvision, (double)BitConverter.ToHalf(slot, index * 2), Math.Abs(torchvision) * Math.Pow(2, -10) + 1e-6);
                    break;
                default:
                    Assert.Equal(torchvision, BitConverter.ToSingle(slot, index * 4), Math.Abs(torchvision) * 1e-6f + 1e-6f);
                    break;
            }
        }
    }

    [Fact]
    public void PixelScaleOneKeepsZeroTo255()
    {
        var raw = Raw();
        var options = new ImageInputOptions { Width = Width, Height = Height, PixelScale = 1 };
        var (slot, _) = TestImages.Decode(TestImages.Layout(options, "float", ImageLayout.Nhwc), Jpeg);
        for (int i = 0; i < raw.Length; i++)
            Assert.Equal(raw[i], BitConverter.ToSingle(slot, i * 4));
    }

    [Fact]
    public void DefaultsAreToTensorsZeroToOne()
    {
        var raw = Raw();
        var (slot, _) = TestImages.Decode(TestImages.Layout(new ImageInputOptions { Width = Width, Height = Height }, "float", ImageLayout.Nhwc), Jpeg);
        for (int i = 0; i < raw.Length; i++)
            Assert.Equal(raw[i] / 255f, BitConverter.ToSingle(slot, i * 4), 1e-7f);
    }

    private static byte[] Raw() =>
        TestImages.Decode(TestImages.Layout(new ImageInputOptions { Width = Width, Height = Height }, "uint8", ImageLayout.Nhwc), Jpeg).Slot;
}
