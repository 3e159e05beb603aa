using System.Runtime.InteropServices;

namespace TrtMLNet.Images.Gpu;

/// <summary>
/// What the resize kernels read for one batch, built on the host: a <see cref="ResizeJob"/> per image, then
/// the tap tables as int32s (for a table of n outputs with at most m taps: First[n], Count[n],
/// Weights[n * m], the fixed-point weights of <see cref="ResampleTaps"/>). Images of the same size share
/// their tables. <see cref="Write"/> lays it all out in one buffer for one host-to-device copy.
/// </summary>
internal sealed class ResizePlan
{
    /// <summary>Each image's intermediate starts on this boundary, as cuMemAlloc aligns allocations.</summary>
    public const int IntermediateAlignment = 256;

    private readonly List<ResizeJob> _jobs = [];
    private readonly List<int> _tables = [];
    private readonly Dictionary<ResampleTaps, int> _tableOffsets = new(ReferenceEqualityComparer.Instance);

    public ResizePlan(int outputWidth, int outputHeight)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(outputWidth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputHeight, 1);
        OutputWidth = outputWidth;
        OutputHeight = outputHeight;
    }

    public int OutputWidth { get; }

    public int OutputHeight { get; }

    public int Count => _jobs.Count;

    /// <summary>The jobs; <see cref="ResizeJob.Intermediate"/> holds an offset from the intermediate buffer's start until <see cref="Write"/>.</summary>
    public IReadOnlyList<ResizeJob> Jobs => _jobs;

    /// <summary>Device bytes the intermediates of all images take.</summary>
    public long IntermediateBytes { get; private set; }

    /// <summary>The most intermediate pixels of one image: the horizontal kernel's grid covers that many.</summary>
    public long MaxIntermediatePixels { get; private set; }

    /// <summary>Bytes <see cref="Write"/> writes: the jobs, then the tables.</summary>
    public long ByteCount => TablesOffset + _tables.Count * (long)sizeof(int);

    /// <summary>Where the tables start in what <see cref="Write"/> writes.</summary>
    public long TablesOffset => _jobs.Count * (long)ResizeJob.Size;

    /// <summary>
    /// Adds an image decoded at <paramref name="source"/> (device pointer, RGBI rows of <paramref name="sourcePitch"/>
    /// bytes), resized with <paramref name="horizontal"/> and <paramref name="vertical"/> (computed for its
    /// <paramref name="sourceWidth"/> x <paramref name="sourceHeight"/> pixels), written at
    /// <paramref name="outputOffset"/> bytes into the output.
    /// </summary>
    public void Add(long source, long sourcePitch, int sourceWidth, int sourceHeight, ResampleTaps horizontal, ResampleTaps vertical, long outputOffset)
    {
        if (horizontal.OutSize != OutputWidth || vertical.OutSize != OutputHeight)
            throw new ArgumentException($"The taps make {horizontal.OutSize} x {vertical.OutSize} pixels; this batch's images are {OutputWidth} x {OutputHeight}.");
        // The kernels trust the tables: every tap must read inside the decoded image.
        var (xStart, xEnd) = horizontal.SourceRange();
        var (yStart, yEnd) = vertical.SourceRange();
        if (xStart < 0 || yStart < 0 || xEnd > sourceWidth || yEnd > sourceHeight)
            throw new ArgumentException($"The taps read pixels outside the {sourceWidth} x {sourceHeight} image.");
        if (sourcePitch < sourceWidth * 3L)
            throw new ArgumentException($"A pitch of {sourcePitch} bytes cannot hold {sourceWidth} RGB pixels.", nameof(sourcePitch));

        int rowCount = yEnd - yStart;
        _jobs.Add(new ResizeJob
        {
            Source = source,
            Intermediate = IntermediateBytes,
            SourcePitch = sourcePitch,
            OutputOffset = outputOffset,
            SourceWidth = sourceWidth,
            SourceHeight = sourceHeight,
            RowStart = yStart,
            RowCount = rowCount,
            HorizontalTaps = TableOffset(horizontal),
            HorizontalMaxTaps = horizontal.MaxTaps,
            VerticalTaps = TableOffset(vertical),
            VerticalMaxTaps = vertical.MaxTaps,
        });
        long pixels = (long)rowCount * OutputWidth;
        IntermediateBytes += AlignUp(pixels * 3, IntermediateAlignment);
        MaxIntermediatePixels = Math.Max(MaxIntermediatePixels, pixels);
    }

    /// <summary>Writes the jobs (their intermediates placed from <paramref name="intermediateBase"/>) and the tables into <paramref name="destination"/>.</summary>
    public void Write(Span<byte> destination, long intermediateBase)
    {
        if (destination.Length < ByteCount)
            throw new ArgumentException($"The plan takes {ByteCount} bytes; the destination has {destination.Length}.", nameof(destination));
        for (int i = 0; i < _jobs.Count; i++)
        {
            var job = _jobs[i];
            job.Intermediate += intermediateBase;
            MemoryMarshal.Write(destination.Slice(i * ResizeJob.Size, ResizeJob.Size), in job);
        }
        MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(_tables)).CopyTo(destination[(int)TablesOffset..]);
    }

    private int TableOffset(ResampleTaps taps)
    {
        if (_tableOffsets.TryGetValue(taps, out int offset))
            return offset;
        offset = _tables.Count;
        _tables.AddRange(taps.First);
        _tables.AddRange(taps.Count);
        _tables.AddRange(taps.FixedWeights);
        _tableOffsets[taps] = offset;
        return offset;
    }

    private static long AlignUp(long value, long alignment) => (value + alignment - 1) / alignment * alignment;
}
