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
    private readonly List<(long Position, string Source, string? Path, byte[]? Bytes)> _rows = [];
    private DeviceBuffer? _filling;
    private long _used;
    private int _slot = -1;

    public override void Fill(Span<byte> destination, int row, long position)
    {
        if (row == 0)
            _rows.Clear();
        if (source.Path(out var path))
        {
            var (full, described) = ImageFiles.Locate(path, runtime.Image.Options.ImageFolder, position, runtime.Input.Column);
            _rows.Add((position, described, path.Length == 0 ? "" : full, null));
        }
        else
        {
            _rows.Add((position, $"row {position} of column '{runtime.Input.Column}'", null, source.Bytes().ToArray()));
        }
    }

    public override void FinishBatch(BatchSlot slot, int rows)
    {
        var contents = ReadAll();
        var upload = new GpuImageUpload(runtime.Gpu!, runtime.Cpu, runtime.Image.Options.OnBadImage, runtime.Report);
        _used = 0;
        var offsets = new long[_rows.Count];
        for (var i = 0; i < _rows.Count; i++)
        {
            var (bytes, length, failure) = contents[i];
            if (failure is not null)
            {
                if (runtime.Image.Options.OnBadImage == BadImagePolicy.Fail)
                    throw failure;
                upload.ReadFailures[i] = new BadImage(i, _rows[i].Position, failure.ImageSource, failure.Failure, failure.Reason);
            }
            else
            {
                bytes.AsSpan(0, length).CopyTo(Room(length));
            }
            offsets[i] = _used;
            _used += length;
        }
        // The staging may have grown while packing: take the pointers once it is final.
        for (var i = 0; i < _rows.Count; i++)
            upload.Images.Add(new EncodedImage(_filling!.Pointer + (nint)offsets[i], contents[i].Length, _rows[i].Source, _rows[i].Position));
        for (var i = 0; i < contents.Length; i++)
            if (_rows[i].Bytes is null && contents[i].Bytes.Length > 0)
                ArrayPool<byte>.Shared.Return(contents[i].Bytes);
        _encoded[slot.Index] = _filling;
        slot.Job.Uploads[inputIndex] = upload;
        _filling = null;
    }

    /// <summary>Each row's encoded bytes and length (files in pooled arrays, bytes columns in their copies), or why it could not be read.</summary>
    private (byte[] Bytes, int Length, ImageDecodeException? Failure)[] ReadAll()
    {
        var contents = new (byte[], int, ImageDecodeException?)[_rows.Count];
        Parallel.For(0, _rows.Count, i =>
        {
            var (_, described, path, bytes) = _rows[i];
            if (bytes is not null)
            {
                contents[i] = (bytes, bytes.Length, null);
                return;
            }
            byte[] rented = [];
            try
            {
                if (path!.Length == 0)
                    throw new ImageDecodeException(described, ImageDecodeFailure.Empty, "the path is empty or missing.");
                var length = ImageFiles.ReadInto(path, described, runtime.Image.Options.ImageFolder, n => rented = ArrayPool<byte>.Shared.Rent(Math.Max(1, n)));
                contents[i] = (rented, length, null);
            }
            catch (ImageDecodeException e)
            {
                if (rented.Length > 0)
                    ArrayPool<byte>.Shared.Return(rented);
                contents[i] = ([], 0, e);
            }
        });
        return contents;
    }

    public override void BeginBatch(BatchSlot slot)
    {
        _slot = slot.Index;
        _filling = _encoded[_slot];
        _encoded[_slot] = null;
    }

    /// <summary>Room for <paramref name="length"/> more bytes after <see cref="_used"/> in the slot's pinned staging; it grows by doubling, keeping what is there.</summary>
    private unsafe Span<byte> Room(int length)
    {
        var needed = _used + length;
        if (_filling is null || _filling.Bytes < needed)
        {
            var grown = device.AllocateStaging(Math.Max(needed, (_filling?.Bytes ?? 1 << 20) * 2), $"compressed images of input '{runtime.Input.Tensor.Name}'");
            if (_filling is not null)
            {
                Buffer.MemoryCopy((void*)_filling.Pointer, (void*)grown.Pointer, grown.Bytes, _used);
                _filling.Dispose();
            }
            _filling = grown;
        }
        return new Span<byte>((byte*)_filling.Pointer + _used, length);
    }

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
