namespace TrtMLNet.Images;

/// <summary>
/// The taps of PIL's antialiased bilinear resampling along one axis, for the output pixels a crop keeps.
/// Output pixel <c>j</c> is <c>sum over t &lt; Count[j] of source[First[j] + t] * Weights[j * MaxTaps + t]</c>;
/// <see cref="FixedWeights"/> are the same weights in PIL's fixed point (<see cref="PrecisionBits"/>
/// fraction bits), which is what an 8-bit image is resampled with. An output pixel outside the resized
/// image (the padding of a crop larger than it) has <c>Count</c> 0: it comes out 0.
/// Plain arrays on purpose: the GPU path uploads First, Count and FixedWeights to a kernel as they are.
/// </summary>
/// <remarks>
/// The algorithm is Pillow's <c>precompute_coeffs</c> and <c>normalize_coeffs_8bpc</c>
/// (src/libImaging/Resample.c, python-pillow/Pillow; read, not copied): the "triangle" filter
/// <c>max(0, 1 - |x|)</c> with support 1, widened by the scale factor when downscaling so every source
/// pixel contributes (antialiasing); for output pixel <c>i</c> the center is <c>(i + 0.5) * scale</c>, the
/// source range is <c>[(int)(center - support + 0.5), (int)(center + support + 0.5))</c> clipped to the image,
/// each weight is <c>filter((x - center + 0.5) / filterscale)</c>, and the weights are divided by their sum.
/// The fixed-point weights round half away from zero at 22 fraction bits. Every operation is done in the
/// same order as there, in doubles, so the weights are bit for bit PIL's.
/// </remarks>
internal sealed record ResampleTaps(int OutSize, int MaxTaps, int[] First, int[] Count, float[] Weights, int[] FixedWeights)
{
    /// <summary>PIL's PRECISION_BITS for 8-bit images: 32 - 8 bits of result - 2 bits of headroom.</summary>
    public const int PrecisionBits = 32 - 8 - 2;

    /// <summary>What the fixed-point sum starts from so the final shift rounds to nearest.</summary>
    public const int RoundingHalf = 1 << (PrecisionBits - 1);

    private const double FilterSupport = 1.0; // PIL's BILINEAR ("triangle") filter

    /// <summary>
    /// The taps for resizing <paramref name="sourceSize"/> pixels to <paramref name="resizedSize"/> and keeping
    /// the <paramref name="cropSize"/> resized pixels from <paramref name="cropOffset"/> on (which may start
    /// before 0 or end past <paramref name="resizedSize"/>: those pixels are padding). The values are those
    /// of resizing the whole line and then cropping.
    /// </summary>
    public static ResampleTaps Compute(int sourceSize, int resizedSize, int cropOffset, int cropSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sourceSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(resizedSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(cropSize, 1);

        double scale = (double)sourceSize / resizedSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = FilterSupport * filterScale;
        double inverseFilterScale = 1.0 / filterScale;
        int pilTaps = (int)Math.Ceiling(support) * 2 + 1; // the most a pixel can have, PIL's ksize

        var first = new int[cropSize];
        var count = new int[cropSize];
        var weights = new double[cropSize * pilTaps];
        int maxTaps = 1;
        for (int j = 0; j < cropSize; j++)
        {
            int i = cropOffset + j;
            if (i < 0 || i >= resizedSize)
                continue; // padding: no taps, the pixel is 0
            double center = (i + 0.5) * scale;
            int xmin = Math.Max((int)(center - support + 0.5), 0);
            int xmax = Math.Min((int)(center + support + 0.5), sourceSize) - xmin;
            double sum = 0.0;
            for (int x = 0; x < xmax; x++)
            {
                double w = Triangle((x + xmin - center + 0.5) * inverseFilterScale);
                weights[j * pilTaps + x] = w;
                sum += w;
            }
            if (sum != 0.0)
            {
                for (int x = 0; x < xmax; x++)
                    weights[j * pilTaps + x] /= sum;
            }
            first[j] = xmin;
            count[j] = xmax;
            maxTaps = Math.Max(maxTaps, xmax);
        }

        var floatWeights = new float[cropSize * maxTaps];
        var fixedWeights = new int[cropSize * maxTaps];
        for (int j = 0; j < cropSize; j++)
        {
            for (int t = 0; t < count[j]; t++)
            {
                double w = weights[j * pilTaps + t];
                floatWeights[j * maxTaps + t] = (float)w;
                fixedWeights[j * maxTaps + t] = ToFixed(w);
            }
        }
        return new ResampleTaps(cropSize, maxTaps, first, count, floatWeights, fixedWeights);
    }

    /// <summary>The source pixels the taps read: <c>[Start, End)</c>; empty when every output pixel is padding.</summary>
    public (int Start, int End) SourceRange()
    {
        int start = int.MaxValue, end = 0;
        for (int j = 0; j < OutSize; j++)
        {
            if (Count[j] == 0)
                continue;
            start = Math.Min(start, First[j]);
            end = Math.Max(end, First[j] + Count[j]);
        }
        return start == int.MaxValue ? (0, 0) : (start, end);
    }

    private static double Triangle(double x)
    {
        if (x < 0.0)
            x = -x;
        return x < 1.0 ? 1.0 - x : 0.0;
    }

    // PIL: (int)(0.5 + w * (1 << PRECISION_BITS)), and -0.5 for negative weights (none for this filter).
    private static int ToFixed(double w) =>
        w < 0 ? (int)(-0.5 + w * (1 << PrecisionBits)) : (int)(0.5 + w * (1 << PrecisionBits));
}
