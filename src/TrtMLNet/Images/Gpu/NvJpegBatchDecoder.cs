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
/// With the hardware decoder, nvJPEG works in a CUDA context of its own (<see cref="HardwareDecodeContext"/>
/// says why): it decodes there, on a stream of that context, and the lane's stream copies the pixels into the
/// primary context before the kernels read them.
/// </summary>
internal sealed class NvJpegBatchDecoder : IDisposable
{
    private readonly CudaDevice _device;
    private readonly NvJpegDecoderOptions _options;
    private readonly NvJpegSession _session;
    private readonly GpuResizeKernels _kernels;
    private readonly GrowableBuffer _decoded, _intermediate, _planOnDevice, _planOnHost;
    private readonly CudaEvent _lastUse, _planUploaded;
    // Set only when nvJPEG works in its own context: that context, its stream and the event the lane's stream
    // waits for, and the primary context's copy of the decoded pixels (the kernels' source).
    private readonly CudaDevice? _decodeContext;
    private readonly CudaStream? _decodeStream;
    private readonly CudaEvent? _decodeDone;
    private readonly GrowableBuffer? _decodedHere;
    private readonly TapsCache _taps = new();
    private readonly List<IDisposable> _owned = [];
    private readonly List<DecodedOnDevice> _lastDecoded = [];
    private int _busy;
    private bool _disposed;

    /// <summary>Starts nvJPEG on <paramref name="device"/>; throws <see cref="NvJpegException"/> saying why it cannot.</summary>
    public NvJpegBatchDecoder(CudaDevice device, NvJpegDecoderOptions? options = null)
    {
        NvJpegLibrary.EnsureAvailable();
        _device = device;
        _options = options ?? new NvJpegDecoderOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxDecodedBytes, 1);
        try
        {
            (_session, _decodeContext) = StartSession(device, _options);
            if (_decodeContext is not null)
            {
                _decodeStream = Own(_decodeContext.CreateStream());
                _decodeDone = Own(_decodeContext.CreateEvent());
                _decodedHere = Own(new GrowableBuffer(device, "nvJPEG's decoded images (copied into the primary context)", pinned: false));
            }
            _kernels = Own(new GpuResizeKernels(device));
            _decoded = Own(new GrowableBuffer(_decodeContext ?? device, "nvJPEG's decoded images", pinned: false));
            _intermediate = Own(new GrowableBuffer(device, "the resize kernel's intermediate rows", pinned: false));
            _planOnDevice = Own(new GrowableBuffer(device, "the resize kernel's tap tables", pinned: false));
            _planOnHost = Own(new GrowableBuffer(device, "the resize kernel's tap tables (staging)", pinned: true));
            _lastUse = Own(device.CreateEvent());
            _planUploaded = Own(device.CreateEvent());
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>
    /// The session, in the hardware decoder's own context where the options ask for it and the GPU has a
    /// hardware decoder (that context, else null), or in the primary context.
    /// </summary>
    private (NvJpegSession Session, CudaDevice? Context) StartSession(CudaDevice device, NvJpegDecoderOptions options)
    {
        if (options.UseHardwareDecoder && options.HardwareDecoderInOwnContext)
        {
            var context = HardwareDecodeContext.Acquire(device);
            NvJpegSession? session = null;
            try
            {
                session = new NvJpegSession(context, useHardware: true, options.InterpolatedChromaUpsampling);
                if (session.UsesHardwareDecoder)
                    return (Own(session), context);
            }
            catch
            {
                HardwareDecodeContext.Release(context);
                throw;
            }
            // No hardware decoder on this GPU: nothing gained from a context of its own.
            session.Dispose();
            HardwareDecodeContext.Release(context);
        }
        return (Own(new NvJpegSession(device, options.UseHardwareDecoder, options.InterpolatedChromaUpsampling)), null);
    }

    /// <summary>Whether the GPU's hardware JPEG decoder does the baseline JPEGs.</summary>
    public bool UsesHardwareDecoder => _session.UsesHardwareDecoder;

    /// <summary>
    /// Where the images of the last call's last part lie decoded (RGBI) on the device, for tests that compare
    /// the kernels with a host reference on nvJPEG's own pixels. Valid until the next call.
    /// </summary>
    internal IReadOnlyList<DecodedOnDevice> LastDecoded => _lastDecoded;

    /// <summary>What decodes, in words: library, file, GPU, backend and flags, and anything refused.</summary>
    public string Setup => $"nvJPEG {NvJpegLibrary.Version} ({NvJpegLibrary.FileName}) on GPU {_device.Ordinal} ({_device.Name}): {_session.Setup}" +
        (_decodeContext is null ? "" : ", in a CUDA context of its own");

    /// <summary>Whether nvJPEG works in the hardware decoder's own context (false: in the primary context).</summary>
    public bool DecodesInOwnContext => _decodeContext is not null;

    /// <summary>
    /// Decodes <paramref name="images"/> and writes image i into the row at <paramref name="output"/> + i *
    /// <paramref name="rowBytes"/> (device memory) as <paramref name="layout"/> says, all enqueued on
    /// <paramref name="stream"/> and asynchronous: when this returns, the rows are written once the stream
    /// reaches this point. Until then the encoded bytes of <paramref name="images"/> must stay untouched
    /// (nvJPEG copies them to the GPU from there asynchronously; record an event on the stream after this call
    /// and wait for it before reusing the staging). The decoder's own host buffers are its business.
    /// Rows of images in <see cref="GpuDecodeResult.ForCpu"/> are not written: decode those on the CPU path into
    /// their rows. With <see cref="BadImagePolicy.Fail"/> a bad image throws an <see cref="ImageDecodeException"/>
    /// naming it; with <see cref="BadImagePolicy.Skip"/> its row is zeroed and it is reported.
    /// </summary>
    public GpuDecodeResult DecodeInto(IReadOnlyList<EncodedImage> images, IntPtr output, long rowBytes, ImageTensorLayout layout, BadImagePolicy policy, IntPtr stream)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Validate(images, output, rowBytes, layout);
        if (Interlocked.Exchange(ref _busy, 1) == 1)
            throw new InvalidOperationException("An NvJpegBatchDecoder is used by two threads at once; each lane needs its own.");
        try
        {
            _device.MakeCurrent();
            _lastDecoded.Clear();
            var batch = new GpuDecodeBatch(images, output, rowBytes, layout, policy, stream);
            var accepted = batch.Classify(_session);
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
                CudaCheck.ThrowIfFailed(CudaDriverApi.cuMemsetD8Async(output + (nint)(bad.Index * rowBytes), 0, (nuint)layout.RowBytes, stream), "cuMemsetD8Async");
            return new GpuDecodeResult(batch.HardwareDecoded, batch.OtherDecoded,
                [.. batch.ForCpu.OrderBy(f => f.Index)], [.. batch.Bad.OrderBy(b => b.Index)]);
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    private static void Validate(IReadOnlyList<EncodedImage> images, IntPtr output, long rowBytes, ImageTensorLayout layout)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(layout);
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
    private void DecodeChunk(GpuDecodeBatch batch, List<GpuDecodeBatch.Accepted> chunk)
    {
        try
        {
            long decodedBytes = chunk.Sum(a => a.DecodedBytes);
            IntPtr decoded = _decoded.Ensure(decodedBytes, WaitIdle);
            // Where the kernels read the pixels: nvJPEG's own buffer, or its copy in the primary context.
            IntPtr pixels = _decodedHere?.Ensure(decodedBytes, WaitIdle) ?? decoded;
            var destinations = new NvJpegImage[chunk.Count];
            var sources = new IntPtr[chunk.Count];
            long offset = 0;
            for (int k = 0; k < chunk.Count; k++)
            {
                destinations[k] = NvJpegImage.Interleaved(decoded + (nint)offset, chunk[k].Pitch);
                sources[k] = pixels + (nint)offset;
                offset += chunk[k].DecodedBytes;
            }
            // Sized for every image; rebuilt below if some fail to decode, so no kernel writes their rows.
            var plan = Plan(batch, chunk, sources, _ => true);
            IntPtr intermediate = _intermediate.Ensure(Math.Max(plan.IntermediateBytes, 1), WaitIdle);
            IntPtr planOnDevice = _planOnDevice.Ensure(plan.ByteCount, WaitIdle);
            IntPtr planOnHost = _planOnHost.Ensure(plan.ByteCount, WaitIdle);

            // nvJPEG's hardware backend writes its destinations when called, not when the stream gets there
            // (github:meta-pytorch/torchcodec, "Wait for the caller's stream before the nvJPEG hardware decode
            // writes"; only a host wait orders it): the kernels of the previous chunk or batch, still queued,
            // may not have read these pixels yet. Usually long done; a batch in chunks waits here for real.
            _lastUse.Synchronize();
            var decodedOk = Decode(batch, chunk, destinations, _decodeStream?.Pointer ?? batch.Stream);
            if (_decodeContext is not null)
                CopyIntoPrimary(batch.Stream, pixels, decoded, decodedBytes);
            if (decodedOk.Count(ok => ok) != chunk.Count)
                plan = Plan(batch, chunk, sources, k => decodedOk[k]);
            _lastDecoded.Clear();
            for (int k = 0; k < chunk.Count; k++)
                if (decodedOk[k])
                    _lastDecoded.Add(new DecodedOnDevice(chunk[k].Index, sources[k], chunk[k].Width, chunk[k].Height, chunk[k].Pitch));
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

    /// <summary>
    /// Makes the lane's stream wait for what nvJPEG enqueued on its own context's stream, then copy the chunk's
    /// pixels from there into the primary context. Before the next chunk overwrites nvJPEG's buffer, its host
    /// wait for <c>_lastUse</c> (recorded on the lane's stream after the kernels, so after this copy) orders them.
    /// </summary>
    private void CopyIntoPrimary(IntPtr laneStream, IntPtr pixels, IntPtr decoded, long bytes)
    {
        using (_decodeContext!.Enter())
            _decodeDone!.Record(_decodeStream!);
        // A stream may wait for an event of another context (cuStreamWaitEvent, cuda.h).
        CudaCheck.ThrowIfFailed(CudaDriverApi.cuStreamWaitEvent(laneStream, _decodeDone.Pointer, 0), "cuStreamWaitEvent (nvJPEG's context)");
        CudaCheck.ThrowIfFailed(
            CudaDriverApi.cuMemcpyPeerAsync(pixels, _device.Context, decoded, _decodeContext.Context, (nuint)bytes, laneStream),
            "cuMemcpyPeerAsync (decoded images, nvJPEG's context to the primary)");
    }

    /// <summary>Enqueues the decoding of a chunk on <paramref name="stream"/>; returns which of its images decoded.</summary>
    private bool[] Decode(GpuDecodeBatch batch, List<GpuDecodeBatch.Accepted> chunk, NvJpegImage[] destinations, IntPtr stream)
    {
        var ok = new bool[chunk.Count];
        var one = new List<int>();
        var batched = new List<int>();
        for (int k = 0; k < chunk.Count; k++)
            (chunk[k].Batched ? batched : one).Add(k);

        if (batched.Count > 0)
        {
            var status = _session.DecodeBatched([.. batched.Select(k => batch.Images[chunk[k].Index])], [.. batched.Select(k => destinations[k])], stream);
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
                throw NvJpegException.Create(status, $"nvjpegDecodeBatched of {batched.Count} images (the first {batch.Images[chunk[batched[0]].Index].Source})");
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
            _session.BeginDecoupled();
            int sequence = 0;
            foreach (int k in one)
            {
                int index = chunk[k].Index;
                var status = _session.DecodeOne(batch.Images[index], destinations[k], sequence++, stream, out string phase);
                if (status == NvJpegStatus.Success)
                {
                    ok[k] = true;
                    batch.OtherDecoded++;
                }
                else
                {
                    batch.Refuse(index, status, phase);
                }
            }
        }
        return ok;
    }

    /// <summary>The kernels' tables for the chunk's images that <paramref name="include"/> says, reading each at its <paramref name="sources"/> entry.</summary>
    private ResizePlan Plan(GpuDecodeBatch batch, List<GpuDecodeBatch.Accepted> chunk, IntPtr[] sources, Func<int, bool> include)
    {
        var layout = batch.Layout;
        var plan = new ResizePlan(layout.Width, layout.Height);
        for (int k = 0; k < chunk.Count; k++)
        {
            if (!include(k))
                continue;
            var image = chunk[k];
            var (horizontal, vertical) = _taps.Get(image.Width, image.Height, layout);
            plan.Add(sources[k], image.Pitch, image.Width, image.Height, horizontal, vertical, image.Index * batch.RowBytes);
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
        if (_decodeContext is not null && _decodeStream is not null)
        {
            using var _ = _decodeContext.Enter();
            _decodeStream.Synchronize();
        }
    }

    private T Own<T>(T disposable) where T : IDisposable
    {
        _owned.Add(disposable);
        return disposable;
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
        for (int i = _owned.Count - 1; i >= 0; i--)
            _owned[i].Dispose();
        _owned.Clear();
        // Last: everything made in the decoders' context is freed by now.
        if (_decodeContext is not null)
            HardwareDecodeContext.Release(_decodeContext);
    }
}
