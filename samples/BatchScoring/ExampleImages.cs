using SkiaSharp;

namespace BatchScoring;

/// <summary>
/// The built-in example: synthetic pictures (gradients, shapes, noise) scored with the ResNet-18
/// featurizer that ships in the Microsoft.ML.DnnImageFeaturizer.ResNet18 package, so the job runs end
/// to end with no download and no data of your own.
/// </summary>
public static class ExampleImages
{
    public const int Count = 48;

    /// <summary>Where the package's build targets copy the model, under the application's folder.</summary>
    public static string ModelPath => Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");

    /// <summary>
    /// The featurizer's own preprocessing (ResNetPreprocess.onnx in the same package) reorders the planes
    /// to BGR and subtracts a mean image whose planes average 103.1, 115.9 and 123.2; ExtractPixels takes
    /// one offset for all planes, so the example subtracts their mean.
    /// </summary>
    public const float PixelOffset = -114f;

    /// <summary>Draws the images into <paramref name="folder"/> (PNG and JPEG, 256x256, a fixed seed) and returns how many.</summary>
    public static int Write(string folder)
    {
        Directory.CreateDirectory(folder);
        var random = new Random(2024);
        for (var i = 0; i < Count; i++)
        {
            using var bitmap = new SKBitmap(256, 256);
            using (var canvas = new SKCanvas(bitmap))
                Draw(canvas, random);
            AddNoise(bitmap, random);
            var (format, extension) = i % 3 == 0 ? (SKEncodedImageFormat.Jpeg, "jpg") : (SKEncodedImageFormat.Png, "png");
            using var image = SKImage.FromBitmap(bitmap);
            using var data = image.Encode(format, 90);
            using var file = File.Create(Path.Combine(folder, $"example-{i:D3}.{extension}"));
            data.SaveTo(file);
        }
        return Count;
    }

    private static void Draw(SKCanvas canvas, Random random)
    {
        using (var background = new SKPaint())
        {
            background.Shader = SKShader.CreateLinearGradient(
                new SKPoint(0, 0), new SKPoint(256, 256), [RandomColor(random), RandomColor(random)], SKShaderTileMode.Clamp);
            canvas.DrawRect(0, 0, 256, 256, background);
        }
        using var paint = new SKPaint { IsAntialias = true };
        for (var s = random.Next(2, 7); s > 0; s--)
        {
            paint.Color = RandomColor(random).WithAlpha((byte)random.Next(120, 256));
            paint.Style = random.Next(3) == 0 ? SKPaintStyle.Stroke : SKPaintStyle.Fill;
            paint.StrokeWidth = random.Next(2, 12);
            float x = random.Next(0, 256), y = random.Next(0, 256), size = random.Next(16, 120);
            switch (random.Next(3))
            {
                case 0:
                    canvas.DrawCircle(x, y, size / 2, paint);
                    break;
                case 1:
                    canvas.DrawRect(x - size / 2, y - size / 3, size, size * 2 / 3, paint);
                    break;
                default:
                    using (var path = new SKPath())
                    {
                        path.MoveTo(x, y - size / 2);
                        path.LineTo(x + size / 2, y + size / 2);
                        path.LineTo(x - size / 2, y + size / 2);
                        path.Close();
                        canvas.DrawPath(path, paint);
                    }
                    break;
            }
        }
    }

    private static void AddNoise(SKBitmap bitmap, Random random)
    {
        var pixels = bitmap.Pixels;
        for (var p = 0; p < pixels.Length; p++)
        {
            var c = pixels[p];
            var n = random.Next(-12, 13);
            pixels[p] = new SKColor(Clamp(c.Red + n), Clamp(c.Green + n), Clamp(c.Blue + n), c.Alpha);
        }
        bitmap.Pixels = pixels;
    }

    private static byte Clamp(int value) => (byte)Math.Clamp(value, 0, 255);

    private static SKColor RandomColor(Random random) => new((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));
}
