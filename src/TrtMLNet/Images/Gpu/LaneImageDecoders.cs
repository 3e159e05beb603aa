using System.Runtime.InteropServices;
using SkiaSharp;
using TrtMLNet.Device;
using TrtMLNet.Native.Cuda;

namespace TrtMLNet.Images.Gpu;

/// <summary>
/// One nvJPEG decoder per lane of a device, made on first use on the lane's own thread (a decoder's batched
/// state belongs to one stream and one thread at a time), all freed together. The lanes share the first one's
/// hybrid decoder: its slots serve whichever lane's workers run.
/// </summary>
internal sealed class LaneImageDecoders(CudaDevice device, NvJpegDecoderOptions options) : IDisposable
{
    private readonly Dictionary<int, NvJpegBatchDecoder> _decoders = [];
    // Owns the shared hybrid decoder: freed last.
    private NvJpegBatchDecoder? _first;
    private bool _disposed;

    public NvJpegBatchDecoder For(int lane)
    {
        lock (_decoders)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_decoders.TryGetValue(lane, out var decoder))
            {
                _decoders[lane] = decoder = new NvJpegBatchDecoder(device, options, _first?.Hybrid);
                _first ??= decoder;
            }
            return decoder;
        }
    }

    /// <summary>
    /// Makes the decoders of lanes 0..<paramref name="lanes"/>-1 now (nvJPEG's handles, the hardware engine,
    /// the resize kernels' module compiled from PTX) and has each decode a full batch of a drawn JPEG of
    /// ImageNet's typical size, all lanes at once, so that the buffers nvJPEG, the hardware engine and the
    /// kernels grow on first use are there, and the shared hybrid decoder has the slots lanes decoding at once
    /// take: the first batches scored pay none of it (measured on the H200 before this: a lane's slowest batch,
    /// its first, took 258-288 ms against a mean of 42-45).
    /// </summary>
    public void Prepare(int lanes, ImageTensorLayout layout, int batchRows)
    {
        var jpeg = WarmUpJpeg();
        device.MakeCurrent();
        using var encoded = device.AllocatePinned(jpeg.Length, "the image decoders' warm-up JPEG");
        Marshal.Copy(jpeg, 0, encoded.Pointer, jpeg.Length);
        var images = Enumerable.Repeat(new EncodedImage(encoded.Pointer, jpeg.Length, "the warm-up JPEG"), batchRows).ToList();
        For(0);
        try
        {
            Parallel.For(0, lanes, new ParallelOptions { MaxDegreeOfParallelism = lanes }, lane =>
            {
                device.MakeCurrent();
                using var stream = device.CreateStream();
                using var output = device.Allocate(batchRows * layout.RowBytes, "the image decoders' warm-up batch");
                For(lane).DecodeInto(images, output.Pointer, layout.RowBytes, layout, BadImagePolicy.Fail, stream.Pointer);
                stream.Synchronize();
            });
        }
        catch (AggregateException e)
        {
            // The first lane's error, as it was thrown (an NvJpegException or CudaException naming the call).
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
    }

    /// <summary>A 500 x 375 baseline JPEG (4:2:0, quality 90, as most photos are) of a colour gradient.</summary>
    private static byte[] WarmUpJpeg()
    {
        using var bitmap = new SKBitmap(500, 375);
        using (var canvas = new SKCanvas(bitmap))
        using (var paint = new SKPaint())
        {
            paint.Shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(500, 375), [SKColors.OrangeRed, SKColors.SeaGreen], SKShaderTileMode.Clamp);
            canvas.DrawRect(0, 0, 500, 375, paint);
        }
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90);
        return data.ToArray();
    }

    /// <summary>What the lanes' decoders hold now (<see cref="NvJpegBatchDecoder.Held"/>).</summary>
    public HeldMemory Held
    {
        get
        {
            lock (_decoders)
                return _decoders.Values.Aggregate(_first?.Hybrid.Held ?? new HeldMemory(), (sum, d) => sum + d.OwnHeld);
        }
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
            foreach (var decoder in _decoders.Values.Where(d => d != _first))
                decoder.Dispose();
            _first?.Dispose();
            _first = null;
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

    private GpuDecodeBatch? _prepared;

    public void Prepare(int lane) => _prepared = decoders.For(lane).Prepare(Images, cpu.Layout, policy);

    public DeviceTurnFrom TurnFrom(int lane) => decoders.For(lane).UsesHardwareDecoder ? DeviceTurnFrom.Upload : DeviceTurnFrom.Compute;

    public void Upload(DeviceStream stream, IntPtr destination, IntPtr staging, int lane)
    {
        var layout = cpu.Layout;
        var prepared = _prepared ?? throw new InvalidOperationException("A GPU image upload runs Prepare on its lane before Upload.");
        _prepared = null;
        var result = decoders.For(lane).Decode(prepared, destination, layout.RowBytes, stream.Handle);
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
