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
    private const int DecodedAlignment = 256;

    private readonly CudaDevice _device;
    private readonly NvJpegDecoderOptions _options;
    private readonly NvJpegSession _session;
    private readonly GpuResizeKernels _kernels;
    private readonly GrowableBuffer _decoded, _intermediate, _planOnDevice, _planOnHost;
    private readonly CudaEvent _lastUse, _planUploaded;
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
            _session = Own(new NvJpegSession(device, _options.UseHardwareDecoder, _options.InterpolatedChromaUpsampling));
            _kernels = Own(new GpuResizeKernels(device));
            _decoded = Own(new GrowableBuffer(device, "nvJPEG's decoded images", pinned: false));
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

    /// <summary>Whether the GPU's hardware JPEG decoder does the baseline JPEGs.</summary>
    public bool UsesHardwareDecoder => _session.UsesHardwareDecoder;

    /// <summary>
    /// Where the images of the last call's last part lie decoded (RGBI) on the device, for tests that compare
    /// the kernels with a host reference on nvJPEG's own pixels. Valid until the next call.
    /// </summary>
    internal IReadOnlyList<DecodedOnDevice> LastDecoded => _lastDecoded;

    /// <summary>What decodes, in words: library, file, GPU, backend and flags, and anything refused.</summary>
    public string Setup => $"nvJPEG {NvJpegLibrary.Version} ({NvJpegLibrary.FileName}) on GPU {_device.Ordinal} ({_device.Name}): {_session.Setup}";

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
            var batch = new BatchState(images, output, rowBytes, layout, policy, stream);
            var accepted = Classify(batch);
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

    /// <summary>One accepted image: where it goes, its decoded size, and whether nvjpegDecodeBatched takes it.</summary>
    private readonly record struct Accepted(int Index, int Width, int Height, bool Batched)
    {
        public long Pitch => Width * 3L;

        public long DecodedBytes => (Pitch * Height + DecodedAlignment - 1) / DecodedAlignment * DecodedAlignment;
    }

    /// <summary>A batch on its way through: the call's arguments and what has happened to its images.</summary>
    private sealed class BatchState(IReadOnlyList<EncodedImage> images, IntPtr output, long rowBytes, ImageTensorLayout layout, BadImagePolicy policy, IntPtr stream)
    {
        public IReadOnlyList<EncodedImage> Images { get; } = images;
        public IntPtr Output { get; } = output;
        public long RowBytes { get; } = rowBytes;
        public ImageTensorLayout Layout { get; } = layout;
        public BadImagePolicy Policy { get; } = policy;
        public IntPtr Stream { get; } = stream;
        public List<CpuFallbackImage> ForCpu { get; } = [];
        public List<BadImage> Bad { get; } = [];
        public int HardwareDecoded { get; set; }
        public int OtherDecoded { get; set; }

        public void Cpu(int index, string reason) => ForCpu.Add(new CpuFallbackImage(index, Images[index].Source, reason));

        /// <summary>Records a bad image, or throws naming it when bad images fail the batch.</summary>
        public void Reject(int index, ImageDecodeFailure failure, string reason, Exception? inner = null)
        {
            var image = Images[index];
            if (Policy == BadImagePolicy.Fail)
                throw new ImageDecodeException(image.Source, failure,
                    reason + " To go on past bad images, set OnBadImage = Skip: their rows are then reported and their images zeroed.", inner);
            Bad.Add(new BadImage(index, image.Row >= 0 ? image.Row : index, image.Source, failure, reason));
        }
    }

    /// <summary>Reads every image's headers: which go to nvJPEG (and which of those batched), which to the CPU, which are bad.</summary>
    private List<Accepted> Classify(BatchState batch)
    {
        var accepted = new List<Accepted>(batch.Images.Count);
        for (int i = 0; i < batch.Images.Count; i++)
        {
            var image = batch.Images[i];
            if (image.Data == IntPtr.Zero || image.Length <= 0)
            {
                batch.Reject(i, ImageDecodeFailure.Empty, "it is empty (0 bytes). Replace it with the image it should hold, or skip bad images (OnBadImage = Skip).");
                continue;
            }
            var header = JpegHeader.Read(image.Data, image.Length);
            switch (header.Verdict)
            {
                case JpegHeaderVerdict.Cpu:
                    batch.Cpu(i, header.Reason!);
                    continue;
                case JpegHeaderVerdict.Truncated:
                    batch.Reject(i, ImageDecodeFailure.Truncated, $"the JPEG {header.Reason} ({image.Length} bytes): the file is cut off, as by an interrupted download or " +
                        $"copy. Replace it with a complete copy.");
                    continue;
                case JpegHeaderVerdict.Corrupt:
                    batch.Reject(i, ImageDecodeFailure.Corrupt, $"the JPEG is damaged: {header.Reason}. Re-export or re-download it.");
                    continue;
            }
            var status = _session.GetImageInfo(image, out int width, out int height, out int components, out var subsampling);
            if (status != NvJpegStatus.Success)
            {
                Refuse(batch, i, status, "nvjpegGetImageInfo");
                continue;
            }
            if (components is not (1 or 3) || subsampling == NvJpegChromaSubsampling.Unknown)
            {
                batch.Cpu(i, $"nvJPEG reads it as {components} component(s) with {subsampling} chroma subsampling; the CPU decodes it as PIL does");
                continue;
            }
            if ((long)width * height > CpuImageDecoder.MaxDecodedPixels)
            {
                batch.Reject(i, ImageDecodeFailure.Unsupported,
                    $"it is {width} x {height} pixels, more than the {CpuImageDecoder.MaxDecodedPixels / 1_000_000} million this decoder accepts for one image (Pillow's " +
                        $"decompression-bomb limit). Downscale it first.");
                continue;
            }
            bool batched = _session.UsesHardwareDecoder
                ? _session.IsBatchedSupported(image, out bool supported) == NvJpegStatus.Success && supported
                : !header.Progressive;
            accepted.Add(new Accepted(i, width, height, batched));
        }
        return accepted;
    }

    /// <summary>
    /// An nvJPEG status about one image: what nvJPEG does not support or refuses goes to the CPU path, which
    /// decodes whatever libjpeg decodes; damage is a bad image; a failure of nvJPEG or the GPU itself throws.
    /// </summary>
    private static void Refuse(BatchState batch, int index, NvJpegStatus status, string call)
    {
        var error = NvJpegException.Create(status, $"{call} on {batch.Images[index].Source}");
        string what = $"{call} returned {error.StatusName} ({NvJpegException.Describe(status)})";
        switch (status)
        {
            case NvJpegStatus.JpegNotSupported or NvJpegStatus.ImplementationNotSupported or NvJpegStatus.ArchMismatch or NvJpegStatus.InvalidParameter:
                batch.Cpu(index, $"nvJPEG does not decode it: {what}");
                break;
            case NvJpegStatus.IncompleteBitstream:
                batch.Reject(index, ImageDecodeFailure.Truncated, $"the JPEG ends too early: {what}. The file is cut off; replace it with a complete copy.", error);
                break;
            case NvJpegStatus.BadJpeg:
                batch.Reject(index, ImageDecodeFailure.Corrupt, $"the JPEG data is damaged: {what}. Re-export or re-download it.", error);
                break;
            default:
                throw error;
        }
    }

    /// <summary>Decodes, resizes and writes one part of the batch whose decoded images fit in memory at once.</summary>
    private void DecodeChunk(BatchState batch, List<Accepted> chunk)
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
            var decodedOk = Decode(batch, chunk, destinations);
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
    private bool[] Decode(BatchState batch, List<Accepted> chunk, NvJpegImage[] destinations)
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
                var status = _session.DecodeOne(batch.Images[index], destinations[k], sequence++, batch.Stream, out string phase);
                if (status == NvJpegStatus.Success)
                {
                    ok[k] = true;
                    batch.OtherDecoded++;
                }
                else
                {
                    Refuse(batch, index, status, phase);
                }
            }
        }
        return ok;
    }

    private ResizePlan Plan(BatchState batch, List<Accepted> chunk, NvJpegImage[] destinations, Func<int, bool> include)
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
    }
}
