using TrtMLNet.Device;
using TrtMLNet.Native.Cuda;

namespace TrtMLNet.Images.Gpu;

/// <summary>
/// One nvJPEG decoder per lane of a device, made on first use on the lane's own thread (a decoder's state
/// belongs to one stream and one thread at a time), all freed together.
/// </summary>
internal sealed class LaneImageDecoders(CudaDevice device) : IDisposable
{
    private readonly Dictionary<int, NvJpegBatchDecoder> _decoders = [];
    private bool _disposed;

    public NvJpegBatchDecoder For(int lane)
    {
        lock (_decoders)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_decoders.TryGetValue(lane, out var decoder))
                _decoders[lane] = decoder = new NvJpegBatchDecoder(device);
            return decoder;
        }
    }

    /// <summary>
    /// Makes the decoders of lanes 0..<paramref name="lanes"/>-1 now (nvJPEG's handles, the hardware engine,
    /// the resize kernels' module compiled from PTX), so none of that is paid by the first batches scored.
    /// </summary>
    public void Prepare(int lanes)
    {
        for (var lane = 0; lane < lanes; lane++)
            For(lane);
    }

    /// <summary>What decodes, in words, once a lane has made its decoder.</summary>
    public string? Setup
    {
        get { lock (_decoders) return _decoders.Values.FirstOrDefault()?.Setup; }
    }

    public void Dispose()
    {
        lock (_decoders)
        {
            _disposed = true;
            device.MakeCurrent();
            foreach (var decoder in _decoders.Values)
                decoder.Dispose();
            _decoders.Clear();
        }
    }
}

/// <summary>
/// A batch of an image input decoded on the GPU: the JPEGs' compressed bytes (in the cursor's pinned
/// staging) go to nvJPEG on the lane's stream, and the kernels write the tensor straight into the lane's
/// IO buffers. Images nvJPEG does not take are decoded on the CPU path into their rows of the batch's
/// host staging and copied up.
/// </summary>
internal sealed class GpuImageUpload(LaneImageDecoders decoders, ImageBatchDecoder cpu, BadImagePolicy policy, Action<IReadOnlyList<BadImage>> report)
    : IDeviceUpload
{
    /// <summary>The batch's images, row by row: image i goes to row i.</summary>
    public List<EncodedImage> Images { get; } = [];

    /// <summary>
    /// Rows whose file could not be read (their image is empty here), by index: reported with that reason
    /// instead of the decoder's "empty".
    /// </summary>
    public Dictionary<int, BadImage> ReadFailures { get; } = [];

    public void Upload(DeviceStream stream, IntPtr destination, IntPtr staging, int lane)
    {
        var layout = cpu.Layout;
        var result = decoders.For(lane).DecodeInto(Images, destination, layout.RowBytes, layout, policy, stream.Handle);
        report(ReadFailures.Count == 0 ? result.BadImages : [.. result.BadImages.Select(b => ReadFailures.GetValueOrDefault(b.Index, b))]);
        if (result.ForCpu.Count == 0)
            return;
        var items = result.ForCpu.Select(f => ImageBatchItem.FromBytes(Images[f.Index].Row, Copy(Images[f.Index]), (long)f.Index * layout.RowBytes)).ToList();
        var decoded = cpu.Decode(items, staging, (long)Images.Count * layout.RowBytes);
        report(decoded.BadImages);
        foreach (var image in result.ForCpu)
        {
            var offset = (nint)((long)image.Index * layout.RowBytes);
            stream.CopyToDevice(destination + offset, staging + offset, layout.RowBytes);
        }
    }

    private static unsafe byte[] Copy(EncodedImage image) => new ReadOnlySpan<byte>((void*)image.Data, checked((int)image.Length)).ToArray();
}
