using System.Runtime.ExceptionServices;

namespace TrtMLNet.Images;

/// <summary>One row of a batch to decode: its image as a path to read or as encoded bytes, and where its slot starts in the staging memory.</summary>
internal readonly record struct ImageBatchItem(long Row, string? Path, ReadOnlyMemory<byte> Bytes, long DestinationOffset)
{
    /// <summary>A row whose column holds a file path (relative paths resolve against the image folder); null or empty is a missing image.</summary>
    public static ImageBatchItem FromPath(long row, string? path, long destinationOffset) => new(row, path ?? "", default, destinationOffset);

    /// <summary>A row whose column holds the encoded image itself.</summary>
    public static ImageBatchItem FromBytes(long row, ReadOnlyMemory<byte> bytes, long destinationOffset) => new(row, null, bytes, destinationOffset);
}

/// <summary>A row whose image could not be used: its place in the batch, its row number, where it came from and why.</summary>
internal sealed record BadImage(int Index, long Row, string Source, ImageDecodeFailure Failure, string Reason)
{
    public override string ToString() => $"{Source}: {Reason}";
}

/// <summary>What decoding a batch did: images decoded, how many of them by a reduced JPEG decode, and the bad rows (only with <see cref="BadImagePolicy.Skip"/>).</summary>
internal sealed record ImageBatchResult(int Decoded, int ReducedDecodes, IReadOnlyList<BadImage> BadImages);

/// <summary>
/// Decodes a batch's images in parallel, one image per thread at a time on every core (the calling thread
/// takes part), reading files in parallel too, straight into each row's slot of the staging memory.
/// With <see cref="BadImagePolicy.Fail"/> the first bad image found stops the batch with its
/// <see cref="ImageDecodeException"/>; with <see cref="BadImagePolicy.Skip"/> a bad row's slot is zeroed and
/// the row reported in <see cref="ImageBatchResult.BadImages"/>. Thread-safe; one instance serves every batch.
/// </summary>
internal sealed unsafe class ImageBatchDecoder
{
    private readonly CpuImageDecoder _decoder;
    private readonly string _column;
    private readonly string? _imageFolder;
    private readonly BadImagePolicy _policy;
    private readonly ParallelOptions _parallel;

    public ImageBatchDecoder(ImageTensorLayout layout, string column, string? imageFolder, BadImagePolicy policy, int maxDegreeOfParallelism = -1)
    {
        _decoder = new CpuImageDecoder(layout);
        _column = column;
        _imageFolder = string.IsNullOrEmpty(imageFolder) ? null : imageFolder;
        _policy = policy;
        _parallel = new ParallelOptions
        {
            MaxDegreeOfParallelism = maxDegreeOfParallelism > 0 ? maxDegreeOfParallelism : Environment.ProcessorCount,
        };
    }

    public ImageTensorLayout Layout => _decoder.Layout;

    /// <summary>
    /// Decodes <paramref name="items"/> into the staging memory at <paramref name="staging"/>
    /// (<paramref name="stagingBytes"/> long), each into the <see cref="ImageTensorLayout.RowBytes"/> from its offset.
    /// </summary>
    public ImageBatchResult Decode(IReadOnlyList<ImageBatchItem> items, IntPtr staging, long stagingBytes)
    {
        int rowBytes = _decoder.Layout.RowBytes;
        foreach (var item in items)
        {
            if (item.DestinationOffset < 0 || item.DestinationOffset + rowBytes > stagingBytes)
                throw new ArgumentException($"Row {item.Row}'s image slot [{item.DestinationOffset}, +{rowBytes}) is outside the {stagingBytes} bytes of staging memory.");
        }

        var bad = new BadImage?[items.Count];
        var errors = new ImageDecodeException?[items.Count];
        var reduced = new bool[items.Count];
        try
        {
            Parallel.For(0, items.Count, _parallel, (i, loop) =>
            {
                var item = items[i];
                var destination = new Span<byte>((byte*)staging + item.DestinationOffset, rowBytes);
                try
                {
                    reduced[i] = DecodeOne(item, destination).Reduced;
                }
                catch (ImageDecodeException e)
                {
                    destination.Clear();
                    bad[i] = new BadImage(i, item.Row, e.ImageSource, e.Failure, e.Reason);
                    errors[i] = e;
                    if (_policy == BadImagePolicy.Fail)
                        loop.Stop();
                }
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.Count == 1)
        {
            ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }

        var badImages = bad.OfType<BadImage>().ToList();
        if (_policy == BadImagePolicy.Fail && badImages.Count > 0)
        {
            var first = errors[badImages[0].Index]!;
            throw new ImageDecodeException(first.ImageSource, first.Failure,
                first.Reason + " To go on past bad images, set OnBadImage = Skip: their rows are then reported and their images zeroed.",
                first.InnerException);
        }
        return new ImageBatchResult(items.Count - badImages.Count, reduced.Count(r => r), badImages);
    }

    private DecodedImage DecodeOne(ImageBatchItem item, Span<byte> destination)
    {
        if (item.Path is null)
            return _decoder.Decode(item.Bytes.Span, $"row {item.Row} of column '{_column}'", destination);
        if (item.Path.Length == 0)
            throw new ImageDecodeException($"row {item.Row} of column '{_column}'", ImageDecodeFailure.Empty, "the path is empty or missing.");

        var (path, source) = ImageFiles.Locate(item.Path, _imageFolder, item.Row, _column);
        var scratch = DecodeScratch.ForThisThread;
        byte[]? buffer = null;
        var read = ImageFiles.ReadInto(path, source, _imageFolder, length => buffer = scratch.File(length));
        return _decoder.Decode(buffer.AsSpan(0, read), source, destination);
    }
}
