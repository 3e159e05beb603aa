using System.Runtime.InteropServices;
using SkiaSharp;
using TrtMLNet.Images;

namespace TrtMLNet.Tests.Images;

/// <summary>An RGB image, 3 bytes a pixel, rows packed.</summary>
public sealed record RgbImage(int Width, int Height, byte[] Pixels)
{
    public byte this[int x, int y, int c] => Pixels[(y * Width + x) * 3 + c];
}

/// <summary>Images drawn and encoded in the tests with SkiaSharp, and decoded by SkiaSharp independently of the code under test.</summary>
public static class TestImages
{
    /// <summary>Smooth gradients, fine stripes (which the antialiasing filter must average), a sharp-edged checkerboard and noise.</summary>
    public static RgbImage Draw(int width, int height, int seed, double noise = 6) => Draw(width, height, seed, noise, sharp: true);

    /// <summary>Photo-like: smooth shapes of a few tens of pixels and sensor-like noise, no hard edges.</summary>
    public static RgbImage DrawSmooth(int width, int height, int seed, double noise = 3) => Draw(width, height, seed, noise, sharp: false);

    private static RgbImage Draw(int width, int height, int seed, double noise, bool sharp)
    {
        var random = new Random(seed);
        var pixels = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                double r = sharp ? 127 + 120 * Math.Sin(x / 3.1 + seed) * Math.Cos(y / 7.3) : 127 + 100 * Math.Sin(x / 23.0 + seed) * Math.Cos(y / 31.0);
                double g = 255.0 * (x + y) / (width + height);
                double b = sharp ? (((x / 5) + (y / 4)) % 2 == 0 ? 230 : 20) : 127 + 90 * Math.Sin((x + 2 * y) / 17.0);
                int i = (y * width + x) * 3;
                pixels[i] = Clamp(r + noise * (random.NextDouble() - 0.5) * 2);
                pixels[i + 1] = Clamp(g + noise * (random.NextDouble() - 0.5) * 2);
                pixels[i + 2] = Clamp(b + noise * (random.NextDouble() - 0.5) * 2);
            }
        }
        return new RgbImage(width, height, pixels);
    }

    /// <summary>
    /// A photo-like picture as the anchors' make_jpegs.py draws one (smooth colour from a coarse random grid,
    /// plus noise), so JPEG decoders differ here as much as on real photos, not more.
    /// </summary>
    public static RgbImage Photo(int width, int height, int seed)
    {
        var random = new Random(seed);
        const int gw = 16, gh = 12;
        var grid = new double[gh + 1, gw + 1, 3];
        for (int y = 0; y <= gh; y++)
            for (int x = 0; x <= gw; x++)
                for (int c = 0; c < 3; c++)
                    grid[y, x, c] = random.Next(256);
        var pixels = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
        {
            double gy = (double)y / height * gh;
            int y0 = (int)gy;
            double fy = gy - y0;
            for (int x = 0; x < width; x++)
            {
                double gx = (double)x / width * gw;
                int x0 = (int)gx;
                double fx = gx - x0;
                for (int c = 0; c < 3; c++)
                {
                    double v = (1 - fy) * ((1 - fx) * grid[y0, x0, c] + fx * grid[y0, x0 + 1, c])
                        + fy * ((1 - fx) * grid[y0 + 1, x0, c] + fx * grid[y0 + 1, x0 + 1, c]);
                    pixels[(y * width + x) * 3 + c] = (byte)Math.Clamp(Math.Round(v + random.Next(-12, 12)), 0, 255);
                }
            }
        }
        return new RgbImage(width, height, pixels);
    }

    public static byte[] Png(RgbImage image) => Encode(image, SKEncodedImageFormat.Png, 100);

    public static byte[] Jpeg(RgbImage image, int quality = 90) => Encode(image, SKEncodedImageFormat.Jpeg, quality);

    public static byte[] Encode(RgbImage image, SKEncodedImageFormat format, int quality)
    {
        var rgba = new byte[image.Width * image.Height * 4];
        for (int i = 0; i < image.Width * image.Height; i++)
        {
            rgba[i * 4] = image.Pixels[i * 3];
            rgba[i * 4 + 1] = image.Pixels[i * 3 + 1];
            rgba[i * 4 + 2] = image.Pixels[i * 3 + 2];
            rgba[i * 4 + 3] = 255;
        }
        using var bitmap = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
        using var data = bitmap.Encode(format, quality);
        return data.ToArray();
    }

    /// <summary>The pixels SkiaSharp decodes at full size (SKBitmap.Decode, not the decoder under test), alpha dropped.</summary>
    public static RgbImage DecodeFull(byte[] encoded)
    {
        using var codec = SKCodec.Create(new MemoryStream(encoded));
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var bitmap = SKBitmap.Decode(encoded, info);
        var rgba = bitmap.Bytes;
        var rgb = new byte[info.Width * info.Height * 3];
        for (int i = 0; i < info.Width * info.Height; i++)
        {
            rgb[i * 3] = rgba[i * 4];
            rgb[i * 3 + 1] = rgba[i * 4 + 1];
            rgb[i * 3 + 2] = rgba[i * 4 + 2];
        }
        return new RgbImage(info.Width, info.Height, rgb);
    }

    /// <summary>A layout for a tensor of <paramref name="typeName"/> whose shape the options fill in.</summary>
    internal static ImageTensorLayout Layout(ImageInputOptions options, string typeName = "uint8", ImageLayout layout = ImageLayout.Nhwc)
    {
        options.Layout ??= layout;
        long[] shape = options.Layout == ImageLayout.Nchw ? [-1, 3, -1, -1] : [-1, -1, -1, 3];
        return ImageTensorLayout.Create(options, "image", typeName, shape);
    }

    /// <summary>Decodes one image with the decoder under test into a fresh slot.</summary>
    internal static (byte[] Slot, DecodedImage Info) Decode(ImageTensorLayout layout, byte[] encoded)
    {
        var slot = new byte[layout.RowBytes];
        var info = new CpuImageDecoder(layout).Decode(encoded, "test image", slot);
        return (slot, info);
    }

    private static byte Clamp(double v) => (byte)Math.Clamp(Math.Round(v), 0, 255);
}
