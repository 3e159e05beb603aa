using TrtMLNet.Device;
using TrtMLNet.Native.Cuda;
using TrtMLNet.Native.NvJpeg;

namespace TrtMLNet.Images.Gpu;

/// <summary>
/// Decodes a batch of JPEGs on the GPU with nvJPEG and writes each, resized, cropped and normalised as the
/// CPU path would (PIL's arithmetic), straight into its row of the engine's input on the lane's stream: only
/// the compressed bytes cross PCIe. One per lane: its nvJPEG state, buffers and events are the lane's, and it
/// is used by one thread at a time (a second thread at once is refused). Images nvJPEG does not take (not a
/// JPEG, CMYK, 12-bit, arithmetic-coded, ...) are handed back for the CPU path; broken ones fail the batch or
/// are reported and zeroed, as <see cref="BadImagePolicy"/> says. All its device memory returns on Dispose.
/// </summary>
internal sealed class NvJpegBatchDecoder : IDisposable
{
    private readonly CudaDevice _device;
    private readonly NvJpegDecoderOptions _options;
    private readonly NvJpegSession _session;
    private readonly GpuResizeKernels _kernels;
    private readonly GrowableBuffer _decoded, _intermediate, _planOnDevice, _planOnHost;
    private readonly CudaEvent _lastUse, _planUploaded;
    private readonly TapsCache _taps = new();
    private readonly OwnedResources _owned = new();
    private readonly List<DecodedOnDevice> _lastDecoded = [];
    private int _busy;
    private bool _disposed;

    /// <summary>
    /// Starts nvJPEG on <paramref name="device"/>; throws <see cref="NvJpegException"/> saying why it cannot. With
    /// <paramref name="sharedHybrid"/> (another lane's <see cref="Hybrid"/>, made with the same options) it decodes
    /// what the hardware engine does not take there; that lane's decoder must be disposed after this one.
    /// </summary>
    public NvJpegBatchDecoder(CudaDevice device, NvJpegDecoderOptions? options = null, NvJpegDecoupledDecoder? sharedHybrid = null)
    {
        NvJpegLibrary.EnsureAvailable();
        _device = device;
        _options = options ?? new NvJpegDecoderOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxDecodedBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.HostThreads, 1);
        try
        {
            _session = _owned.Add(new NvJpegSession(device, _options.UseHardwareDecoder, _options.InterpolatedChromaUpsampling, _options.HostThreads, sharedHybrid));
            _kernels = _owned.Add(new GpuResizeKernels(device));
            _decoded = _owned.Add(new GrowableBuffer(device, "nvJPEG's decoded images", pinned: false));
            _intermediate = _owned.Add(new GrowableBuffer(device, "the resize kernel's intermediate rows", pinned: false));
            _planOnDevice = _owned.Add(new GrowableBuffer(device, "the resize kernel's tap tables", pinned: false));
            _planOnHost = _owned.Add(new GrowableBuffer(device, "the resize kernel's tap tables (staging)", pinned: true));
            _lastUse = _owned.Add(device.CreateEvent());
            _planUploaded = _owned.Add(device.CreateEvent());
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Whether the GPU's hardware JPEG decoder does the baseline JPEGs.</summary>
    public bool UsesHardwareDecoder => _session.UsesHardwareDecoder;

    /// <summary>
    /// The buffers it and its hybrid decoder hold (decoded images, the resize's rows and tap tables, nvJPEG's
    /// buffers), read by any thread. The hardware engine's and nvJPEG's states' own memory is not known.
    /// </summary>
    public HeldMemory Held => _disposed ? default : OwnHeld + Hybrid.Held;

    /// <summary>The decoder of the images the hardware engine does not take (all of them without one); perhaps shared with other lanes.</summary>
    internal NvJpegDecoupledDecoder Hybrid => _session.Decoupled;

    /// <summary>What <see cref="Held"/> counts but the <see cref="Hybrid"/> decoder's.</summary>
    internal HeldMemory OwnHeld => _disposed ? default :
        new(Math.Max(0, _decoded.Bytes) + Math.Max(0, _intermediate.Bytes) + Math.Max(0, _planOnDevice.Bytes), Math.Max(0, _planOnHost.Bytes));

    /// <summary>
    /// Where the images of the last call's last part lie decoded (RGBI) on the device, for tests that compare
    /// the kernels with a host reference on nvJPEG's own pixels. Valid until the next call.
    /// </summary>
    internal IReadOnlyList<DecodedOnDevice> LastDecoded => _lastDecoded;

    /// <summary>What decodes, in words: library, file, GPU, backend and flags, and anything refused.</summary>
    public string Setup => $"nvJPEG {NvJpegLibrary.Version} ({NvJpegLibrary.FileName}) on GPU {_device.Ordinal} ({_device.Name}): {_session.Setup}";

    /// <summary>
    /// Decodes <paramref name="images"/> and writes image i into the row at <paramref name="output"/> + i *
    /// <paramref name="rowBytes"/> (device memory) as <paramref name="layout"/> says: <see cref="Prepare"/>, then
    /// <see cref="Decode"/>.
    /// </summary>
    public GpuDecodeResult DecodeInto(IReadOnlyList<EncodedImage> images, IntPtr output, long rowBytes, ImageTensorLayout layout, BadImagePolicy policy, IntPtr stream) =>
        Decode(Prepare(images, layout, policy), output, rowBytes, stream);

    /// <summary>
    /// The host half of a batch: reads every image's headers and sorts the images into those nvJPEG decodes
    /// (and which of them in one batched call), those left to the CPU path, and the bad ones (with
    /// <see cref="BadImagePolicy.Fail"/> the first throws an <see cref="ImageDecodeException"/> naming it). It
    /// enqueues nothing on the GPU, so a lane does it before it takes its turn on the device (see
    /// <see cref="LaneImageDecoders"/>).
    /// </summary>
    public GpuDecodeBatch Prepare(IReadOnlyList<EncodedImage> images, ImageTensorLayout layout, BadImagePolicy policy)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(layout);
        using var _ = Use();
        var batch = new GpuDecodeBatch(this, images, layout, policy);
        batch.Classify(_session);
        return batch;
    }

    /// <summary>
    /// The device half: decodes <paramref name="batch"/> (from this decoder's <see cref="Prepare"/>, once) and
    /// writes image i into the row at <paramref name="output"/> + i * <paramref name="rowBytes"/> (device memory),
    /// all enqueued on <paramref name="stream"/> and asynchronous: when this returns, the rows are written once
    /// the stream reaches this point. Until then the encoded bytes of the images must stay untouched (nvJPEG
    /// copies them to the GPU from there asynchronously; record an event on the stream after this call and wait
    /// for it before reusing the staging). The decoder's own host buffers are its business. Rows of images in
    /// <see cref="GpuDecodeResult.ForCpu"/> are not written: decode those on the CPU path into their rows. With
    /// <see cref="BadImagePolicy.Skip"/> a bad image's row is zeroed and it is reported. With the hardware
    /// decoder this call waits, inside nvJPEG, for all work already queued on the device.
    /// </summary>
    public GpuDecodeResult Decode(GpuDecodeBatch batch, IntPtr output, long rowBytes, IntPtr stream)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Decoder != this || batch.Decoded)
            throw new ArgumentException("A batch is decoded once, by the decoder that prepared it.", nameof(batch));
        Validate(output, rowBytes, batch.Layout);
        using var _ = Use();
        batch.Decoded = true;
        (batch.Output, batch.RowBytes, batch.Stream) = (output, rowBytes, stream);
        _device.MakeCurrent();
        _lastDecoded.Clear();
        var accepted = batch.Accepted;
        for (int start = 0; start < accepted.Count;)
        {
            int end = start + 1;
            long bytes = accepted[start].DecodedBytes;
            while (end < accepted.Count && end - start < GpuResizeKernels.MaxImagesPerLaunch && bytes + accepted[end].DecodedBytes <= _options.MaxDecodedBytes)
                bytes += accepted[end++].DecodedBytes;
            DecodeChunk(batch, accepted.GetRange(start, end - start));
            start = end;
        }
        foreach (var bad in batch.Bad)
            CudaCheck.ThrowIfFailed(CudaDriverApi.cuMemsetD8Async(output + (nint)(bad.Index * rowBytes), 0, (nuint)batch.Layout.RowBytes, stream), "cuMemsetD8Async");
        return new GpuDecodeResult(batch.HardwareDecoded, batch.OtherDecoded,
            [.. batch.ForCpu.OrderBy(f => f.Index)], [.. batch.Bad.OrderBy(b => b.Index)]);
    }

    /// <summary>Refuses a second thread at once: a decoder's state belongs to one lane.</summary>
    private BusyScope Use()
    {
        if (Interlocked.Exchange(ref _busy, 1) == 1)
            throw new InvalidOperationException("An NvJpegBatchDecoder is used by two threads at once; each lane needs its own.");
        return new BusyScope(this);
    }

    private readonly struct BusyScope(NvJpegBatchDecoder decoder) : IDisposable
    {
        public void Dispose() => Volatile.Write(ref decoder._busy, 0);
    }

    private static void Validate(IntPtr output, long rowBytes, ImageTensorLayout layout)
    {
        if (output == IntPtr.Zero)
            throw new ArgumentException("The output is a null device pointer.", nameof(output));
        if (rowBytes < layout.RowBytes)
            throw new ArgumentException($"Rows of {rowBytes} bytes cannot hold an image of '{layout.TensorName}' ({layout.RowBytes} bytes).", nameof(rowBytes));
        if (output % layout.ElementSize != 0 || rowBytes % layout.ElementSize != 0)
            throw new ArgumentException(
                $"The output ({output:X}) and its row size ({rowBytes}) must be multiples of the element size ({layout.ElementSize} bytes).", nameof(output));
    }

    /// <summary>An image as nvJPEG decoded it: interleaved RGB at <see cref="Pixels"/> (device), rows <see cref="Pitch"/> bytes apart.</summary>
    internal readonly record struct DecodedOnDevice(int Index, IntPtr Pixels, int Width, int Height, long Pitch);

    /// <summary>Decodes, resizes and writes one part of the batch whose decoded images fit in memory at once.</summary>
    private void DecodeChunk(GpuDecodeBatch batch, List<GpuDecodeBatch.AcceptedImage> chunk)
    {
        try
        {
            long decodedBytes = chunk.Sum(a => a.DecodedBytes);
            IntPtr decoded = _decoded.Ensure(decodedBytes, WaitIdle);
            var destinations = new NvJpegImage[chunk.Count];
            long offset = 0;
            for (int k = 0; k < chunk.Count; k++)
            {
                destinations[k] = NvJpegImage.Interleaved(decoded + (nint)offset, chunk[k].Pitch);
                offset += chunk[k].DecodedBytes;
            }
            // Sized for every image; rebuilt below if some fail to decode, so no kernel writes their rows.
            var plan = Plan(batch, chunk, destinations, _ => true);
            IntPtr intermediate = _intermediate.Ensure(Math.Max(plan.IntermediateBytes, 1), WaitIdle);
            IntPtr planOnDevice = _planOnDevice.Ensure(plan.ByteCount, WaitIdle);
            IntPtr planOnHost = _planOnHost.Ensure(plan.ByteCount, WaitIdle);

            // nvJPEG's hardware backend writes its destinations when called, not when the stream gets there
            // (github:meta-pytorch/torchcodec, "Wait for the caller's stream before the nvJPEG hardware decode
            // writes"; only a host wait orders it): the kernels of the previous chunk or batch, still queued,
            // may not have read these pixels yet. Usually long done; a batch in chunks waits here for real.
            _lastUse.Synchronize();
            var decodedOk = EnqueueNvJpeg(batch, chunk, destinations);
            if (decodedOk.Count(ok => ok) != chunk.Count)
                plan = Plan(batch, chunk, destinations, k => decodedOk[k]);
            _lastDecoded.Clear();
            for (int k = 0; k < chunk.Count; k++)
                if (decodedOk[k])
                    _lastDecoded.Add(new DecodedOnDevice(chunk[k].Index, destinations[k].Channel[0], chunk[k].Width, chunk[k].Height, chunk[k].Pitch));
            if (plan.Count == 0)
                return;

            _planUploaded.Synchronize(); // the staging's last upload has been read
            unsafe
            {
                plan.Write(new Span<byte>((void*)planOnHost, (int)plan.ByteCount), intermediate);
            }
            CudaCheck.ThrowIfFailed(CudaDriverApi.cuMemcpyHtoDAsync(planOnDevice, planOnHost, (nuint)plan.ByteCount, batch.Stream), "cuMemcpyHtoDAsync (resize tables)");
            CudaCheck.ThrowIfFailed(CudaDriverApi.cuEventRecord(_planUploaded.Pointer, batch.Stream), "cuEventRecord");
            _kernels.Launch(batch.Stream, plan, planOnDevice, batch.Output, batch.Layout);
        }
        finally
        {
            // Marks the end of everything this chunk enqueued, even when it stopped half way: buffers are
            // only freed (grown) after it.
            CudaDriverApi.cuEventRecord(_lastUse.Pointer, batch.Stream);
        }
    }

    /// <summary>Enqueues the decoding of a chunk; returns which of its images decoded.</summary>
    private bool[] EnqueueNvJpeg(GpuDecodeBatch batch, List<GpuDecodeBatch.AcceptedImage> chunk, NvJpegImage[] destinations)
    {
        var ok = new bool[chunk.Count];
        var one = new List<int>();
        var batched = new List<int>();
        for (int k = 0; k < chunk.Count; k++)
            (chunk[k].Batched ? batched : one).Add(k);

        if (batched.Count > 0)
        {
            var status = _session.DecodeBatched([.. batched.Select(k => batch.Images[chunk[k].Index])], [.. batched.Select(k => destinations[k])], batch.Stream);
            if (status == NvJpegStatus.Success)
            {
                foreach (int k in batched)
                    ok[k] = true;
                if (_session.UsesHardwareDecoder)
                    batch.HardwareDecoded += batched.Count;
                else
                    batch.OtherDecoded += batched.Count;
            }
            else if (status is NvJpegStatus.AllocatorFailure or NvJpegStatus.NotInitialized)
            {
                throw NvJpegCheck.Failure(status, $"nvjpegDecodeBatched of {batched.Count} images (the first {batch.Images[chunk[batched[0]].Index].Source})");
            }
            else
            {
                // One image the batch cannot take fails it all (nvJPEG says which status, not which image):
                // decoding them one by one finds which, and decodes the others. Were the GPU itself failing,
                // the first of those decodes says so, naming its image.
                one.AddRange(batched);
                one.Sort();
            }
        }

        if (one.Count > 0)
        {
            var results = _session.Decoupled.Decode(batch.Images, [.. one.Select(k => chunk[k].Index)], [.. one.Select(k => destinations[k])], batch.Stream);
            for (int j = 0; j < one.Count; j++)
            {
                var (status, phase) = results[j];
                if (status == NvJpegStatus.Success)
                {
                    ok[one[j]] = true;
                    batch.OtherDecoded++;
                }
                else
                {
                    batch.Refuse(chunk[one[j]].Index, status, phase);
                }
            }
        }
        return ok;
    }

    private ResizePlan Plan(GpuDecodeBatch batch, List<GpuDecodeBatch.AcceptedImage> chunk, NvJpegImage[] destinations, Func<int, bool> include)
    {
        var layout = batch.Layout;
        var plan = new ResizePlan(layout.Width, layout.Height);
        for (int k = 0; k < chunk.Count; k++)
        {
            if (!include(k))
                continue;
            var image = chunk[k];
            var (horizontal, vertical) = _taps.Get(image.Width, image.Height, layout);
            plan.Add(destinations[k].Channel[0], image.Pitch, image.Width, image.Height, horizontal, vertical, image.Index * batch.RowBytes);
        }
        return plan;
    }

    /// <summary>Waits until the GPU no longer uses anything this decoder enqueued (before a buffer is freed).</summary>
    private void WaitIdle()
    {
        // Null-safe: Dispose calls it after a constructor that stopped half way.
        _lastUse?.Synchronize();
        _planUploaded?.Synchronize();
        _session?.WaitIdle();
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        try
        {
            WaitIdle();
        }
        catch (CudaException)
        {
            // A failed stream reports its error here too; freeing is still right.
        }
        _owned.Dispose();
    }
}
