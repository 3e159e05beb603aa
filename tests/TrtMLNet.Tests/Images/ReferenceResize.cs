namespace TrtMLNet.Tests.Images;

/// <summary>
/// A plain double-precision statement of what the decoder computes, written independently of it: the
/// triangle filter <c>max(0, 1 - |d| / s)</c> with <c>s = max(1, source / resized)</c>, <c>d</c> the
/// distance between a source pixel's center and the output pixel's center mapped into the source, weights
/// normalised over the pixels inside the image; separable, no fixed point, no intermediate rounding, then
/// the torchvision crop (zeros outside the resized image). Result: doubles 0..255, [y, x, c] RGB.
/// </summary>
public static class ReferenceResize
{
    public static double[,,] Stretch(RgbImage image, int width, int height) =>
        Resample(image, width, height, 0, 0, width, height);

    public static double[,,] ShorterSideThenCenterCrop(RgbImage image, int n, int cropWidth, int cropHeight)
    {
        // torchvision: the shorter side becomes n, the longer int(n * long / short); crop at round(.. / 2.0), half to even.
        int w = image.Width, h = image.Height;
        int rw = w <= h ? n : (int)((double)n * w / h);
        int rh = w <= h ? (int)((double)n * h / w) : n;
        int left = cropWidth > rw ? -((cropWidth - rw) / 2) : (int)Math.Round((rw - cropWidth) / 2.0, MidpointRounding.ToEven);
        int top = cropHeight > rh ? -((cropHeight - rh) / 2) : (int)Math.Round((rh - cropHeight) / 2.0, MidpointRounding.ToEven);
        return Resample(image, rw, rh, left, top, cropWidth, cropHeight);
    }

    private static double[,,] Resample(RgbImage image, int resizedWidth, int resizedHeight, int left, int top, int outWidth, int outHeight)
    {
        var wx = Weights(image.Width, resizedWidth);
        var wy = Weights(image.Height, resizedHeight);
        // Horizontal then vertical; in exact arithmetic the order does not matter, and here nothing is rounded.
        var rows = new double[image.Height, outWidth, 3];
        for (int sy = 0; sy < image.Height; sy++)
            for (int ox = 0; ox < outWidth; ox++)
            {
                int rx = left + ox;
                if (rx < 0 || rx >= resizedWidth)
                    continue;
                for (int sx = 0; sx < image.Width; sx++)
                    for (int c = 0; c < 3; c++)
                        rows[sy, ox, c] += wx[rx, sx] * image[sx, sy, c];
            }
        var result = new double[outHeight, outWidth, 3];
        for (int oy = 0; oy < outHeight; oy++)
        {
            int ry = top + oy;
            if (ry < 0 || ry >= resizedHeight)
                continue; // padding: 0
            for (int sy = 0; sy < image.Height; sy++)
            {
                double w = wy[ry, sy];
                if (w == 0)
                    continue;
                for (int ox = 0; ox < outWidth; ox++)
                    for (int c = 0; c < 3; c++)
                        result[oy, ox, c] += w * rows[sy, ox, c];
            }
        }
        return result;
    }

    /// <summary>[output pixel, source pixel] weights along one axis.</summary>
    private static double[,] Weights(int source, int resized)
    {
        double scale = (double)source / resized;
        double s = Math.Max(1.0, scale);
        var w = new double[resized, source];
        for (int o = 0; o < resized; o++)
        {
            double center = (o + 0.5) * scale;
            double total = 0;
            for (int x = 0; x < source; x++)
            {
                w[o, x] = Math.Max(0, 1 - Math.Abs(x + 0.5 - center) / s);
                total += w[o, x];
            }
            for (int x = 0; x < source; x++)
                w[o, x] /= total;
        }
        return w;
    }
}
