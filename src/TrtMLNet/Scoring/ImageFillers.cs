using System.Buffers;
using Microsoft.ML;
using Microsoft.ML.Data;
using TrtMLNet.Device;
using TrtMLNet.Images;
using TrtMLNet.Images.Gpu;

namespace TrtMLNet.Scoring;

/// <summary>
/// Feeds an image input decoded on the CPU: rows only name their image (a path, or a copy of its bytes)
/// while the batch is read, and the whole batch then decodes in parallel on every core straight into its
/// rows of the pinned staging, with no image object per row.
/// </summary>
internal sealed class CpuImageFiller(ImageInputRuntime runtime, FittedModel model, int inputIndex, ImageColumn source) : InputFiller
{
    private readonly List<ImageBatchItem> _items = [];

    public override void Fill(Span<byte> destination, int row, long position)
    {
        if (row == 0)
            _items.Clear();
        var offset = (long)row * runtime.Input.RowBytes;
        _items.Add(source.Path(out var path)
            ? ImageBatchItem.FromPath(position, path, offset)
            : ImageBatchItem.FromBytes(position, source.Bytes().ToArray(), offset));
    }

    public override unsafe void FinishBatch(BatchSlot slot, int rows)
    {
        var result = runtime.Cpu.Decode(_items, slot.Job.Staging!.Pointer + (nint)model.Layout.InputOffsets[inputIndex], rows * runtime.Input.RowBytes);
        runtime.Report(result.BadImages);
    }
}

/// <summary>
/// Feeds an image input decoded on the GPU: rows only name their image while the batch is read; the
/// batch's files are then read on every core (one thread reading files one by one holds a GPU decoder
/// at a fraction of its speed) and their compressed bytes packed into pinned staging of the slot's own,
/// which the lane hands to nvJPEG: only those bytes cross PCIe. The staging of a slot is reused once its
/// batch is done.
/// </summary>
internal sealed class GpuImageFiller(ImageInputRuntime runtime, ComputeDevice device, int inputIndex, ImageColumn source, int slots) : InputFiller
{
    private readonly DeviceBuffer?[] _encoded = new DeviceBuffer?[slots];
    private readonly List<PendingImage> _rows = [];
    private DeviceBuffer? _filling;
    private long _used;

    /// <summary>A row's image until the batch is packed: its path, or its encoded bytes in a pooled array.</summary>
    private sealed class PendingImage(long position, string source, string? path)
    {
        public long Position { get; } = position;
        public string Source { get; } = source;
        public string? Path { get; } = path;
        public byte[] Bytes { get; set; } = [];
        public int Length { get; set; }
        public ImageDecodeException? Failure { get; set; }
    }

    public override void Fill(Span<byte> destination, int row, long position)
    {
        if (row == 0)
            _rows.Clear();
        if (source.Path(out var path))
        {
            var (full, described) = ImageFiles.Locate(path, runtime.Image.Options.ImageFolder, position, runtime.Input.Column);
            _rows.Add(new PendingImage(position, described, path.Length == 0 ? "" : full));
            return;
        }
        // The getter's buffer is the column's, reused for the next row: keep a copy until the batch is packed.
        var bytes = source.Bytes();
        var image = new PendingImage(position, $"row {position} of column '{runtime.Input.Column}'", null)
        {
            Bytes = ArrayPool<byte>.Shared.Rent(Math.Max(1, bytes.Length)),
            Length = bytes.Length,
        };
        bytes.CopyTo(image.Bytes);
        _rows.Add(image);
    }

    public override void FinishBatch(BatchSlot slot, int rows)
    {
        try
        {
            ReadFiles();
            EnsureCapacity(_rows.Sum(r => (long)r.Length));
            var upload = new GpuImageUpload(runtime.Gpu!, runtime.Cpu, runtime.Image.Options.OnBadImage, runtime.Report);
            _used = 0;
            var offsets = new long[_rows.Count];
            for (var i = 0; i < _rows.Count; i++)
            {
                var image = _rows[i];
                if (image.Failure is { } failure)
                {
                    if (runtime.Image.Options.OnBadImage == BadImagePolicy.Fail)
                        throw failure;
                    upload.ReadFailures[i] = new BadImage(i, image.Position, failure.ImageSource, failure.Failure, failure.Reason);
                }
                else
                {
                    image.Bytes.AsSpan(0, image.Length).CopyTo(Room(image.Length));
                }
                offsets[i] = _used;
                _used += image.Length;
            }
            for (var i = 0; i < _rows.Count; i++)
                upload.Images.Add(new EncodedImage(_filling!.Pointer + (nint)offsets[i], _rows[i].Length, _rows[i].Source, _rows[i].Position));
            _encoded[slot.Index] = _filling;
            slot.Job.Uploads[inputIndex] = upload;
            _filling = null;
        }
        finally
        {
            foreach (var image in _rows)
                if (image.Bytes.Length > 0)
                    ArrayPool<byte>.Shared.Return(image.Bytes);
            _rows.Clear();
        }
    }

    /// <summary>Reads every path row's file into a pooled array, on every core, noting why one could not be read.</summary>
    private void ReadFiles() => Parallel.ForEach(_rows, image =>
    {
        if (image.Path is null)
            return;
        try
        {
            if (image.Path.Length == 0)
                throw new ImageDecodeException(image.Source, ImageDecodeFailure.Empty, "the path is empty or missing.");
            image.Length = ImageFiles.ReadInto(image.Path, image.Source, runtime.Image.Options.ImageFolder,
                n => image.Bytes = ArrayPool<byte>.Shared.Rent(Math.Max(1, n)));
        }
        catch (ImageDecodeException e)
        {
            image.Failure = e;
            image.Length = 0;
        }
    });

    public override void BeginBatch(BatchSlot slot)
    {
        _filling = _encoded[slot.Index];
        _encoded[slot.Index] = null;
    }

    /// <summary>
    /// The slot's pinned staging, large enough for <paramref name="bytes"/>: sized once from the batch's files,
    /// with a quarter to spare so that later batches rarely grow it. Growing pins new memory; when it doubled
    /// from 1 MiB as the bytes came, every cursor's first batches paid for several allocations per slot.
    /// </summary>
    private void EnsureCapacity(long bytes)
    {
        if (_filling is not null && _filling.Bytes >= bytes)
            return;
        _filling?.Dispose();
        _filling = null;
        _filling = device.AllocateStaging(Math.Max(bytes + bytes / 4, 1 << 20), $"compressed images of input '{runtime.Input.Tensor.Name}'");
    }

    /// <summary>Room for <paramref name="length"/> more bytes after <see cref="_used"/> in the slot's pinned staging (<see cref="EnsureCapacity"/> made it).</summary>
    private unsafe Span<byte> Room(int length) => new((byte*)_filling!.Pointer + _used, length);

    public override void Dispose()
    {
        foreach (var buffer in _encoded)
            buffer?.Dispose();
        _filling?.Dispose();
    }
}

/// <summary>The column a row's image comes from: paths (text) or encoded bytes.</summary>
internal sealed class ImageColumn
{
    private readonly ValueGetter<ReadOnlyMemory<char>>? _path;
    private readonly ValueGetter<VBuffer<byte>>? _bytes;
    private ReadOnlyMemory<char> _pathValue;
    private VBuffer<byte> _bytesValue;

    public ImageColumn(DataViewRow row, InputShape input)
    {
        var column = row.Schema[input.Column];
        if (input.Image!.FromPaths)
            _path = row.GetGetter<ReadOnlyMemory<char>>(column);
        else
            _bytes = row.GetGetter<VBuffer<byte>>(column);
    }

    /// <summary>True, with the current row's path, for a path column.</summary>
    public bool Path(out string path)
    {
        if (_path is null)
        {
            path = "";
            return false;
        }
        _path(ref _pathValue);
        path = _pathValue.ToString().Trim();
        return true;
    }

    /// <summary>The current row's encoded bytes (valid until the next row).</summary>
    public ReadOnlySpan<byte> Bytes()
    {
        _bytes!(ref _bytesValue);
        return _bytesValue.GetValues();
    }
}
