using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TrtMLNet.Images;

/// <summary>
/// PIL's 8-bit two-pass resampling of an RGBA image (4 bytes a pixel; alpha is carried along and ignored by
/// the writer): a horizontal pass over the source rows the vertical taps read, into an 8-bit intermediate
/// (rounded and clipped), then a vertical pass. This is the order and arithmetic of Pillow's
/// <c>ImagingResampleInner</c> and its <c>_8bpc</c> passes (src/libImaging/Resample.c): a sum starting at
/// 2^21, 22-bit fixed-point weights, a shift by 22 and a clip to 0..255. Integer sums do not depend on the
/// order they are added in, so the SIMD paths (1, 2 or 4 taps of a pixel per multiply) give PIL's bytes.
/// </summary>
internal static class PilResampler
{
    private const int PixelBytes = 4;

    /// <summary>
    /// Bytes the source span must have past its last pixel: the 2- and 4-tap paths read up to 3 pixels past a
    /// pixel's last tap (with weight 0), which may be past the end of the image.
    /// </summary>
    public const int SourceSlackBytes = 16;

    /// <summary>
    /// Resamples <paramref name="source"/> (<paramref name="sourceWidth"/> x <paramref name="sourceHeight"/> RGBA,
    /// rows packed, then <see cref="SourceSlackBytes"/> more) into <paramref name="output"/>
    /// (OutputWidth x OutputHeight RGBA, rows packed). <paramref name="vectorBits"/> caps the SIMD width of
    /// the horizontal pass (tests run every path; all give the same bytes).
    /// </summary>
    public static void Resample(
        ReadOnlySpan<byte> source, int sourceWidth, int sourceHeight, ResamplePlan plan,
        Span<byte> intermediate, Span<byte> output, int vectorBits = 512)
    {
        // These checks are what makes the unchecked reads below stay inside the spans: every tap reads inside
        // its taps' SourceRange, every range is inside the image, and the slack covers the zero-weight reads
        // past a pixel's last tap.
        var (xStart, xEnd) = plan.Horizontal.SourceRange();
        if (xStart < 0 || plan.FirstRow < 0 || xEnd > sourceWidth || plan.EndRow > sourceHeight)
            throw new ArgumentException($"The taps read pixels outside the {sourceWidth} x {sourceHeight} source.");
        int outRowBytes = plan.OutputWidth * PixelBytes;
        if (source.Length < (long)sourceWidth * sourceHeight * PixelBytes + SourceSlackBytes)
            throw new ArgumentException("The source span is smaller than the image and its slack.", nameof(source));
        if (intermediate.Length < plan.IntermediateBytes)
            throw new ArgumentException("The intermediate span is too small.", nameof(intermediate));
        if (output.Length < outRowBytes * plan.OutputHeight)
            throw new ArgumentException("The output span is smaller than the resampled image.", nameof(output));

        int sourceRowBytes = sourceWidth * PixelBytes;
        ref byte src = ref MemoryMarshal.GetReference(source);
        ref byte inter = ref MemoryMarshal.GetReference(intermediate);
        for (int y = plan.FirstRow; y < plan.EndRow; y++)
        {
            ref byte line = ref Unsafe.Add(ref src, y * sourceRowBytes);
            ref byte outLine = ref Unsafe.Add(ref inter, (y - plan.FirstRow) * outRowBytes);
            if (vectorBits >= 512 && Avx512F.IsSupported)
                HorizontalRow<FourTaps, Vector512<int>>(ref line, plan, ref outLine);
            else if (vectorBits >= 256 && Avx2.IsSupported)
                HorizontalRow<TwoTaps, Vector256<int>>(ref line, plan, ref outLine);
            else
                HorizontalRow<OneTap, Vector128<int>>(ref line, plan, ref outLine);
        }
        for (int j = 0; j < plan.OutputHeight; j++)
            VerticalRow(intermediate, outRowBytes, plan, j, output.Slice(j * outRowBytes, outRowBytes));
    }

    // The JIT compiles this loop once per tap group (a struct type argument), with the group's code inlined.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first image: no slow first tier
    private static void HorizontalRow<TGroup, TSum>(ref byte line, ResamplePlan plan, ref byte outLine)
        where TGroup : struct, ITapGroup<TSum>
        where TSum : struct
    {
        var taps = plan.Horizontal;
        ref int laneWeights = ref MemoryMarshal.GetArrayDataReference(plan.LaneWeights);
        for (int j = 0; j < taps.OutSize; j++)
        {
            ref byte pixels = ref Unsafe.Add(ref line, taps.First[j] * PixelBytes);
            ref int weights = ref Unsafe.Add(ref laneWeights, j * plan.PaddedTaps * 4);
            TSum sum = default;
            for (int t = 0; t < taps.Count[j]; t += TGroup.Taps)
                sum = TGroup.MultiplyAdd(sum, ref Unsafe.Add(ref pixels, t * PixelBytes), ref Unsafe.Add(ref weights, t * 4));
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref outLine, j * PixelBytes), ClipToBytes(TGroup.ChannelSums(sum)));
        }
    }

    /// <summary>
    /// The taps of one output pixel that one multiply takes: their RGBA bytes widened to int lanes, times
    /// the plan's lane weights (each weight repeated for the four channels, 0 past the last tap).
    /// </summary>
    private interface ITapGroup<TSum> where TSum : struct
    {
        static abstract int Taps { get; }

        static abstract TSum MultiplyAdd(TSum sum, ref byte pixels, ref int weights);

        /// <summary>The pixel's four channel sums, from the lanes of every tap in the group.</summary>
        static abstract Vector128<int> ChannelSums(TSum sum);
    }

    private readonly struct FourTaps : ITapGroup<Vector512<int>>
    {
        public static int Taps => 4;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<int> MultiplyAdd(Vector512<int> sum, ref byte pixels, ref int weights) =>
            sum + Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref pixels)) * Vector512.LoadUnsafe(ref weights);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<int> ChannelSums(Vector512<int> sum)
        {
            var (low, high) = (sum.GetLower(), sum.GetUpper());
            return low.GetLower() + low.GetUpper() + high.GetLower() + high.GetUpper();
        }
    }

    private readonly struct TwoTaps : ITapGroup<Vector256<int>>
    {
        public static int Taps => 2;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> MultiplyAdd(Vector256<int> sum, ref byte pixels, ref int weights)
        {
            ulong two = Unsafe.ReadUnaligned<ulong>(ref pixels);
            return sum + Avx2.ConvertToVector256Int32(Vector128.CreateScalarUnsafe(two).AsByte()) * Vector256.LoadUnsafe(ref weights);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<int> ChannelSums(Vector256<int> sum) => sum.GetLower() + sum.GetUpper();
    }

    private readonly struct OneTap : ITapGroup<Vector128<int>>
    {
        public static int Taps => 1;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<int> MultiplyAdd(Vector128<int> sum, ref byte pixels, ref int weights)
        {
            uint rgba = Unsafe.ReadUnaligned<uint>(ref pixels);
            var widened = Vector128.WidenLower(Vector128.WidenLower(Vector128.CreateScalarUnsafe(rgba).AsByte())).AsInt32();
            return sum + widened * Vector128.LoadUnsafe(ref weights);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<int> ChannelSums(Vector128<int> sum) => sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first image: no slow first tier
    private static void VerticalRow(ReadOnlySpan<byte> intermediate, int rowBytes, ResamplePlan plan, int j, Span<byte> outLine)
    {
        var taps = plan.Vertical;
        int count = taps.Count[j];
        int k = j * taps.MaxTaps;
        ref byte rows = ref Unsafe.Add(ref MemoryMarshal.GetReference(intermediate), (taps.First[j] - plan.FirstRow) * rowBytes);
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

    // PIL's clip8: the sum shifted down by the fraction bits, clipped to 0..255.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> Clip(Vector128<int> sum) =>
        Vector128.Min(Vector128.Max(Vector128.ShiftRightArithmetic(sum, ResampleTaps.PrecisionBits), Vector128<int>.Zero),
            Vector128.Create(255)).AsUInt32();

    /// <summary>One RGBA pixel from its four channel sums (without the rounding half, which is added here).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint ClipToBytes(Vector128<int> sum)
    {
        var clipped = Clip(sum + Vector128.Create(ResampleTaps.RoundingHalf));
        var bytes = Vector128.Narrow(Vector128.Narrow(clipped, clipped), Vector128<ushort>.Zero);
        return bytes.AsUInt32().ToScalar();
    }
}
