using SkiaSharp;

namespace ImageClassification;

/// <summary>
/// The labelled image set the sample trains on when it is given none: pictures of shapes drawn with
/// SkiaSharp, so the sample runs with no download. Each class is one kind of shape, drawn at a random
/// size, place, angle and colour, filled or outlined, over a random gradient with small distractor marks
/// and pixel noise, so the classifier has to learn the shape and not a colour or a position.
/// </summary>
public static class ShapeImages
{
    /// <summary>Every class the set can draw, in the order <see cref="Draw"/> takes them.</summary>
    public static IReadOnlyList<string> Classes { get; } = ["circle", "square", "triangle", "star", "stripes"];

    /// <summary>Drawn larger than the model's 224x224, so ResizeImages has work to do as with real photos.</summary>
    public const int Size = 256;

    /// <summary>
    /// Draws <paramref name="imagesPerClass"/> images of each of the first <paramref name="classes"/>
    /// classes into <paramref name="folder"/>/&lt;label&gt;/ (the folder-per-label layout Model Builder
    /// reads) and returns them. Image i of a class depends only on the seed, the class and i, so a
    /// smaller set is the beginning of a larger one.
    /// </summary>
    public static IReadOnlyList<LabelledImage> Draw(string folder, int classes, int imagesPerClass, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(classes, Classes.Count);
        ArgumentOutOfRangeException.ThrowIfLessThan(imagesPerClass, 1);
        var images = new List<LabelledImage>();
        for (var c = 0; c < classes; c++)
        {
            var label = Classes[c];
            // Full paths: the model's LoadImages has no folder of its own (see ImageInput.ImagePath).
            var classFolder = Path.GetFullPath(Path.Combine(folder, label));
            Directory.CreateDirectory(classFolder);
            for (var i = 0; i < imagesPerClass; i++)
            {
                var random = new Random(unchecked(seed * 1_000_003 + c * 10_007 + i));
                // Both formats, as a folder of photos would have; JPEG's artefacts are one more kind of noise.
                var (format, extension) = i % 3 == 2 ? (SKEncodedImageFormat.Jpeg, "jpg") : (SKEncodedImageFormat.Png, "png");
                var path = Path.Combine(classFolder, $"{label}-{i:D3}.{extension}");
                Write(path, format, bitmap => Paint(bitmap, label, random));
                images.Add(new LabelledImage(path, label));
            }
        }
        return images;
    }

    private static void Write(string path, SKEncodedImageFormat format, Action<SKBitmap> paint)
    {
        using var bitmap = new SKBitmap(Size, Size);
        paint(bitmap);
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(format, 90);
        using var file = File.Create(path);
        data.SaveTo(file);
    }

    private static void Paint(SKBitmap bitmap, string label, Random random)
    {
        using (var canvas = new SKCanvas(bitmap))
        {
            Background(canvas, random);
            Distractors(canvas, random);
            Shape(canvas, label, random);
        }
        AddNoise(bitmap, random);
    }

    private static void Background(SKCanvas canvas, Random random)
    {
        using var paint = new SKPaint();
        paint.Shader = SKShader.CreateLinearGradient(
            new SKPoint(random.Next(Size), 0), new SKPoint(random.Next(Size), Size),
            [RandomColor(random), RandomColor(random)], SKShaderTileMode.Clamp);
        canvas.DrawRect(0, 0, Size, Size, paint);
    }

    /// <summary>Dots and short strokes that belong to no class, so not every edge in the image is the shape's.</summary>
    private static void Distractors(SKCanvas canvas, Random random)
    {
        using var paint = new SKPaint { IsAntialias = true, StrokeCap = SKStrokeCap.Round };
        for (var n = random.Next(4, 11); n > 0; n--)
        {
            paint.Color = RandomColor(random);
            float x = random.Next(Size), y = random.Next(Size);
            if (random.Next(2) == 0)
            {
                paint.Style = SKPaintStyle.Fill;
                canvas.DrawCircle(x, y, random.Next(2, 7), paint);
            }
            else
            {
                paint.Style = SKPaintStyle.Stroke;
                paint.StrokeWidth = random.Next(1, 4);
                var angle = random.NextDouble() * Math.PI;
                var length = random.Next(10, 40);
                canvas.DrawLine(x, y, x + (float)(length * Math.Cos(angle)), y + (float)(length * Math.Sin(angle)), paint);
            }
        }
    }

    private static void Shape(SKCanvas canvas, string label, Random random)
    {
        float size = random.Next(70, 160);
        // Anywhere the shape still fits: position is no clue to the class.
        var cx = size / 2 + (float)random.NextDouble() * (Size - size);
        var cy = size / 2 + (float)random.NextDouble() * (Size - size);
        using var paint = new SKPaint
        {
            IsAntialias = true,
            Color = RandomColor(random),
            Style = random.Next(4) == 0 ? SKPaintStyle.Stroke : SKPaintStyle.Fill,
            StrokeWidth = random.Next(4, 11),
        };
        canvas.Save();
        canvas.Translate(cx, cy);
        canvas.RotateDegrees((float)(random.NextDouble() * 360));
        var r = size / 2;
        switch (label)
        {
            case "circle":
                canvas.DrawCircle(0, 0, r, paint);
                break;
            case "square":
                // r / sqrt(2) keeps the corners inside the shape's box at any angle.
                var half = r / MathF.Sqrt(2);
                canvas.DrawRect(-half, -half, 2 * half, 2 * half, paint);
                break;
            case "triangle":
                using (var path = Polygon(3, r))
                    canvas.DrawPath(path, paint);
                break;
            case "star":
                using (var path = Star(5, r, r * (0.38f + 0.12f * (float)random.NextDouble())))
                    canvas.DrawPath(path, paint);
                break;
            case "stripes":
                // Bars are filled whatever the style: outlined bars would read as long thin rectangles.
                paint.Style = SKPaintStyle.Fill;
                var bars = random.Next(3, 6);
                var pitch = 2 * r / (2 * bars - 1);
                for (var b = 0; b < bars; b++)
                    canvas.DrawRect(-r + 2 * b * pitch, -r * 0.8f, pitch, 1.6f * r, paint);
                break;
            default:
                throw new ArgumentException($"No drawing for class '{label}'.", nameof(label));
        }
        canvas.Restore();
    }

    /// <summary>A regular polygon with a corner pointing up, centred on the origin.</summary>
    private static SKPath Polygon(int corners, float radius) => Outline(corners, _ => radius);

    /// <summary>A star: points alternate with the corners between them, nearer the centre.</summary>
    private static SKPath Star(int points, float outer, float inner) => Outline(2 * points, k => k % 2 == 0 ? outer : inner);

    private static SKPath Outline(int corners, Func<int, float> radius)
    {
        var path = new SKPath();
        for (var k = 0; k < corners; k++)
        {
            var angle = -Math.PI / 2 + k * 2 * Math.PI / corners;
            var point = new SKPoint((float)(radius(k) * Math.Cos(angle)), (float)(radius(k) * Math.Sin(angle)));
            if (k == 0)
                path.MoveTo(point);
            else
                path.LineTo(point);
        }
        path.Close();
        return path;
    }

    private static void AddNoise(SKBitmap bitmap, Random random)
    {
        var pixels = bitmap.Pixels;
        for (var p = 0; p < pixels.Length; p++)
        {
            var c = pixels[p];
            pixels[p] = new SKColor(Noisy(c.Red, random), Noisy(c.Green, random), Noisy(c.Blue, random), c.Alpha);
        }
        bitmap.Pixels = pixels;
    }

    private static byte Noisy(byte value, Random random) => (byte)Math.Clamp(value + random.Next(-24, 25), 0, 255);

    private static SKColor RandomColor(Random random) => new((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));
}
