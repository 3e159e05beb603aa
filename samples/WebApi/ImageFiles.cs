using SkiaSharp;

namespace WebApi;

/// <summary>Image files to the image model's rows, and a test image, with SkiaSharp (which ML.NET's ImageAnalytics brings).</summary>
public static class ImageFiles
{
    /// <summary>Decodes an image file's bytes, resizes it to 224x224 and lays its pixels out as the model takes them.</summary>
    public static ImageInput ToInput(byte[] imageFile)
    {
        using var codec = SKCodec.Create(new SKMemoryStream(imageFile))
            ?? throw new InvalidDataException("imageSource is not an image this server can decode (PNG, JPEG, BMP, GIF or WebP).");
        using var decoded = SKBitmap.Decode(codec)
            ?? throw new InvalidDataException("imageSource is not an image this server can decode (PNG, JPEG, BMP, GIF or WebP).");
        using var resized = decoded.Resize(new SKImageInfo(ImageModel.Size, ImageModel.Size, SKColorType.Bgra8888, SKAlphaType.Premul), SKFilterQuality.Medium)
            ?? throw new InvalidDataException("imageSource could not be resized to 224x224.");
        var pixels = new float[3 * ImageModel.Size * ImageModel.Size];
        var plane = ImageModel.Size * ImageModel.Size;
        var bytes = resized.GetPixelSpan();
        for (var i = 0; i < plane; i++)
        {
            pixels[i] = bytes[i * 4] + ImageModel.PixelOffset;                 // B
            pixels[plane + i] = bytes[i * 4 + 1] + ImageModel.PixelOffset;     // G
            pixels[2 * plane + i] = bytes[i * 4 + 2] + ImageModel.PixelOffset; // R
        }
        return new ImageInput { Pixels = pixels };
    }

    /// <summary>A smooth test image as PNG bytes, as a client would post it (small, which keeps load-test bodies small).</summary>
    public static byte[] GradientPng(int seed)
    {
        using var bitmap = new SKBitmap(ImageModel.Size, ImageModel.Size, SKColorType.Bgra8888, SKAlphaType.Premul);
        for (var y = 0; y < ImageModel.Size; y++)
            for (var x = 0; x < ImageModel.Size; x++)
                bitmap.SetPixel(x, y, new SKColor((byte)(x + seed), (byte)(y * 2 + seed), (byte)((x + y) / 2)));
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 90);
        return data.ToArray();
    }
}
