using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace TrtMLNet.Images;

/// <summary>
/// PIL's 8-bit two-pass resampling of an RGBA image (4 bytes a pixel; alpha is carried along and ignored by
/// the writer), with the taps of <see cref="ResampleTaps"/>: a horizontal pass over the source rows the
/// vertical taps read, into an 8-bit intermediate (rounded and clipped), then a vertical pass. This is
/// the order and arithmetic of Pillow's <c>ImagingResampleInner</c> and its <c>_8bpc</c> passes
/// (src/libImaging/Resample.c): a sum starting at 2^21, fixed-point weights, a shift by 22 and a clip to
/// 0..255. The same integer arithmetic in SIMD lanes gives the same bytes.
/// </summary>
internal static class PilResampler
{
    private const int PixelBytes = 4;

    /// <summary>Bytes of intermediate needed for these taps: one row of the horizontal pass per source row the vertical taps read.</summary>
    public static int IntermediateBytes(ResampleTaps horizontal, ResampleTaps vertical)
    {
        var (start, end) = vertical.SourceRange();
        return (end - start) * horizontal.OutSize * PixelBytes;
    }

    /// <summary>
    /// Resamples <paramref name="source"/> (<paramref name="sourceWidth"/> x <paramref name="sourceHeight"/> RGBA,
    /// rows packed) into <paramref name="output"/> (horizontal.OutSize x vertical.OutSize RGBA, rows packed).
    /// </summary>
    public static void Resample(
        ReadOnlySpan<byte> source, int sourceWidth, int sourceHeight,
        ResampleTaps horizontal, ResampleTaps vertical, Span<byte> intermediate, Span<byte> output)
    {
        // These checks are what makes the unchecked reads below stay inside the spans: every tap reads
        // inside [SourceRange) and every range is inside the image.
        var (xStart, xEnd) = horizontal.SourceRange();
        var (yStart, yEnd) = vertical.SourceRange();
        if (xEnd > sourceWidth || yEnd > sourceHeight || xStart < 0 || yStart < 0)
            throw new ArgumentException($"The taps read pixels outside the {sourceWidth} x {sourceHeight} source.");
        int outRowBytes = horizontal.OutSize * PixelBytes;
        if (source.Length < (long)sourceWidth * sourceHeight * PixelBytes)
            throw new ArgumentException("The source span is smaller than the image.", nameof(source));
        if (intermediate.Length < IntermediateBytes(horizontal, vertical))
            throw new ArgumentException("The intermediate span is too small.", nameof(intermediate));
        if (output.Length < outRowBytes * vertical.OutSize)
            throw new ArgumentException("The output span is smaller than the resampled image.", nameof(output));

        int sourceRowBytes = sourceWidth * PixelBytes;
        for (int y = yStart; y < yEnd; y++)
            HorizontalRow(source.Slice(y * sourceRowBytes, sourceRowBytes), horizontal,
                intermediate.Slice((y - yStart) * outRowBytes, outRowBytes));
        for (int j = 0; j < vertical.OutSize; j++)
            VerticalRow(intermediate, outRowBytes, vertical, j, yStart, output.Slice(j * outRowBytes, outRowBytes));
    }

    private static void HorizontalRow(ReadOnlySpan<byte> line, ResampleTaps taps, Span<byte> outLine)
    {
        ref byte src = ref MemoryMarshal.GetReference(line);
        ref byte dst = ref MemoryMarshal.GetReference(outLine);
        int[] first = taps.First, count = taps.Count, weights = taps.FixedWeights;
        for (int j = 0; j < taps.OutSize; j++)
        {
            var sum = Vector128.Create(ResampleTaps.RoundingHalf);
            int k = j * taps.MaxTaps;
            ref byte pixel = ref Unsafe.Add(ref src, first[j] * PixelBytes);
            for (int t = 0; t < count[j]; t++)
            {
                uint rgba = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref pixel, t * PixelBytes));
                sum += WidenPixel(rgba) * Vector128.Create(weights[k + t]);
            }
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, j * PixelBytes), ClipToBytes(sum));
        }
    }

    private static void VerticalRow(ReadOnlySpan<byte> intermediate, int rowBytes, ResampleTaps taps, int j, int yStart, Span<byte> outLine)
    {
        int count = taps.Count[j];
        int firstRow = taps.First[j] - yStart;
        int k = j * taps.MaxTaps;
        ref byte rows = ref Unsafe.Add(ref MemoryMarshal.GetReference(intermediate), firstRow * rowBytes);
        ref byte dst = ref MemoryMarshal.GetReference(outLine);
        int[] weights = taps.FixedWeights;

        int x = 0;
        for (; x + 16 <= rowBytes; x += 16)
        {
            var half = Vector128.Create(ResampleTaps.RoundingHalf);
            Vector128<int> s0 = half, s1 = half, s2 = half, s3 = half;
            for (int t = 0; t < count; t++)
            {
                var w = Vector128.Create(weights[k + t]);
                var bytes = Vector128.LoadUnsafe(ref Unsafe.Add(ref rows, t * rowBytes + x));
                var (lo, hi) = Vector128.Widen(bytes);
                var (a, b) = Vector128.Widen(lo);
                var (c, d) = Vector128.Widen(hi);
                s0 += a.AsInt32() * w;
                s1 += b.AsInt32() * w;
                s2 += c.AsInt32() * w;
                s3 += d.AsInt32() * w;
            }
            var narrowed = Vector128.Narrow(
                Vector128.Narrow(Clip(s0), Clip(s1)),
                Vector128.Narrow(Clip(s2), Clip(s3)));
            narrowed.StoreUnsafe(ref Unsafe.Add(ref dst, x));
        }
        for (; x < rowBytes; x++)
        {
            int sum = ResampleTaps.RoundingHalf;
            for (int t = 0; t < count; t++)
                sum += Unsafe.Add(ref rows, t * rowBytes + x) * weights[k + t];
            Unsafe.Add(ref dst, x) = (byte)Math.Clamp(sum >> ResampleTaps.PrecisionBits, 0, 255);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> WidenPixel(uint rgba) =>
        Vector128.WidenLower(Vector128.WidenLower(Vector128.CreateScalarUnsafe(rgba).AsByte())).AsInt32();

    // PIL's clip8: the sum shifted down by the fraction bits, clipped to 0..255.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> Clip(Vector128<int> sum) =>
        Vector128.Min(Vector128.Max(Vector128.ShiftRightArithmetic(sum, ResampleTaps.PrecisionBits), Vector128<int>.Zero),
            Vector128.Create(255)).AsUInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint ClipToBytes(Vector128<int> sum)
    {
        var clipped = Clip(sum);
        var bytes = Vector128.Narrow(Vector128.Narrow(clipped, clipped), Vector128<ushort>.Zero);
        return bytes.AsUInt32().ToScalar();
    }
}
