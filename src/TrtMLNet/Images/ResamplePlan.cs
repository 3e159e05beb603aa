namespace TrtMLNet.Images;

/// <summary>
/// The taps for one decoded size and geometry, with what the CPU resampler precomputes from them: the
/// source rows the vertical taps read, and the horizontal fixed-point weights repeated once per RGBA lane
/// (<c>LaneWeights[(j * PaddedTaps + t) * 4 + lane]</c>), so 1, 2 or 4 taps of a pixel multiply in one
/// vector. Taps past a pixel's count have weight 0 up to <see cref="PaddedTaps"/>.
/// </summary>
internal sealed class ResamplePlan
{
    /// <summary>Taps are multiplied in groups of up to 4 (one 512-bit vector).</summary>
    public const int TapGroup = 4;

    private ResamplePlan(ResampleTaps horizontal, ResampleTaps vertical)
    {
        Horizontal = horizontal;
        Vertical = vertical;
        (FirstRow, EndRow) = vertical.SourceRange();
        PaddedTaps = (horizontal.MaxTaps + TapGroup - 1) / TapGroup * TapGroup;
        LaneWeights = new int[horizontal.OutSize * PaddedTaps * 4];
        for (int j = 0; j < horizontal.OutSize; j++)
            for (int t = 0; t < horizontal.Count[j]; t++)
                LaneWeights.AsSpan((j * PaddedTaps + t) * 4, 4).Fill(horizontal.FixedWeights[j * horizontal.MaxTaps + t]);
    }

    public ResampleTaps Horizontal { get; }

    public ResampleTaps Vertical { get; }

    /// <summary>The source rows the vertical taps read: <c>[FirstRow, EndRow)</c>; only these get a horizontal pass.</summary>
    public int FirstRow { get; }

    public int EndRow { get; }

    public int PaddedTaps { get; }

    public int[] LaneWeights { get; }

    public int OutputWidth => Horizontal.OutSize;

    public int OutputHeight => Vertical.OutSize;

    /// <summary>Bytes of the 8-bit RGBA intermediate: one resampled row per source row read.</summary>
    public int IntermediateBytes => (EndRow - FirstRow) * OutputWidth * 4;

    public static ResamplePlan Create(ResampleTaps horizontal, ResampleTaps vertical) => new(horizontal, vertical);

    /// <summary>The plan for decoded pixels of <paramref name="decodedWidth"/> x <paramref name="decodedHeight"/> going where <paramref name="geometry"/> says.</summary>
    public static ResamplePlan Create(int decodedWidth, int decodedHeight, ImageGeometry geometry) => new(
        ResampleTaps.Compute(decodedWidth, geometry.ResizedWidth, geometry.CropLeft, geometry.OutputWidth),
        ResampleTaps.Compute(decodedHeight, geometry.ResizedHeight, geometry.CropTop, geometry.OutputHeight));
}
