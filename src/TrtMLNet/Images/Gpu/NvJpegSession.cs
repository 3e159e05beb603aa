using TrtMLNet.Native.Cuda;
using TrtMLNet.Native.NvJpeg;

namespace TrtMLNet.Images.Gpu;

/// <summary>
/// One lane's nvJPEG objects and the calls made on them, after NVIDIA's nvJPEG-Decoder sample
/// (github:NVIDIA/CUDALibrarySamples, nvJPEG/nvJPEG-Decoder) and torchvision's decode_jpegs_cuda
/// (github:pytorch/vision, torchvision/csrc/io/image/cuda/decode_jpegs_cuda.cpp), which follows it:
/// a library handle made for the hardware backend where asked and the GPU has a JPEG engine
/// (NVJPEG_STATUS_ARCH_MISMATCH otherwise, then the default backend). On a hardware handle,
/// nvjpegDecodeBatched decodes what nvjpegDecodeBatchedSupported accepts; everything else, and everything on a
/// default handle, goes to the decoupled decoder on the host's threads (<see cref="NvJpegDecoupledDecoder"/>).
/// The batched calls are made as NVIDIA's nvImageCodec makes them for the hardware decoder
/// (github:NVIDIA/nvImageCodec, its nvjpeg hw_decoder extension): preallocate once, and per batch wait for
/// the previous one, initialize, decode, record an event. The batched state is not thread safe (nvJPEG's
/// documentation, "Thread Safety"): a session belongs to one lane and is used by one thread at a time.
/// </summary>
internal sealed unsafe class NvJpegSession : IDisposable
{
    /// <summary>NVJPEG_FLAGS_UPSAMPLING_WITH_INTERPOLATION (nvjpeg.h of CUDA 12.x and 13.x; not in 11.x).</summary>
    internal const uint UpsamplingWithInterpolation = 1u << 5;

    private readonly NvJpegLibraryHandle _library;
    private readonly NvJpegState _batchedState;
    private readonly NvJpegStream _headerStream;
    private readonly CudaEvent _batchedDone;
    private readonly OwnedResources _owned = new();
    private readonly NvJpegBatchArrays _arrays = new();

    /// <summary>
    /// Starts nvJPEG on <paramref name="device"/>: the hardware backend when <paramref name="useHardware"/> and the
    /// GPU has it, chroma upsampled by interpolation when asked and accepted, and a decoupled decoder working on
    /// <paramref name="hostThreads"/> threads at most; or <paramref name="sharedDecoupled"/>, another session's
    /// (made with the same settings, so its handle has the same flags), which that session keeps and frees.
    /// </summary>
    public NvJpegSession(CudaDevice device, bool useHardware, bool interpolatedUpsampling, int hostThreads, NvJpegDecoupledDecoder? sharedDecoupled = null)
    {
        device.MakeCurrent();
        try
        {
            (_library, UsesHardwareDecoder, Setup) = CreateLibrary(device.Context, useHardware, interpolatedUpsampling);
            _owned.Add(_library);
            _batchedState = _owned.Add(NvJpegState.Create(_library));
            Decoupled = sharedDecoupled ?? _owned.Add(new NvJpegDecoupledDecoder(device, _library, hostThreads));
            _headerStream = _owned.Add(NvJpegStream.Create(_library));
            _batchedDone = _owned.Add(device.CreateEvent());
            if (UsesHardwareDecoder && NvJpegApi.nvjpegGetHardwareDecoderInfo(_library.Pointer, out uint engines, out uint cores) == NvJpegStatus.Success)
            {
                Setup += $", {engines} engine(s) x {cores} core(s)";
                // nvImageCodec preallocates even with hints of 1 "to use memory pool for HW decoder ... >20%"
                // faster; the hints are only a first size, the pool grows as batches need.
                var preallocated = NvJpegApi.nvjpegDecodeBatchedPreAllocate(
                    _library.Pointer, _batchedState.Pointer, 1, 1, 1, NvJpegChromaSubsampling.Css444, NvJpegOutputFormat.Rgbi);
                if (preallocated != NvJpegStatus.Success)
                    Setup += $" (nvjpegDecodeBatchedPreAllocate: {NvJpegException.NameOf(preallocated)}; decoding goes on without the memory pool)";
            }
            Setup += $"; the decoupled decoder on up to {Decoupled.Threads} host thread(s) a batch, shared by the lanes, for " +
                (UsesHardwareDecoder ? "what the engine does not take" : "every image");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Whether the library handle runs the hardware JPEG decoder.</summary>
    public bool UsesHardwareDecoder { get; }

    /// <summary>Decodes, on the host's threads, what the batched call does not (on a default handle: everything).</summary>
    public NvJpegDecoupledDecoder Decoupled { get; }

    /// <summary>The backend and flags in effect, and why the ones asked for are not, in words.</summary>
    public string Setup { get; }

    /// <summary>Width, height and layout of an image's headers as nvJPEG reads them, or its status.</summary>
    public NvJpegStatus GetImageInfo(EncodedImage image, out int width, out int height, out int components, out NvJpegChromaSubsampling subsampling)
    {
        int* widths = stackalloc int[NvJpegImage.MaxComponents];
        int* heights = stackalloc int[NvJpegImage.MaxComponents];
        var status = NvJpegApi.nvjpegGetImageInfo(_library.Pointer, (byte*)image.Data, (nuint)image.Length, out components, out subsampling, widths, heights);
        width = widths[0];
        height = heights[0];
        return status;
    }

    /// <summary>Whether nvjpegDecodeBatched takes the image (on a hardware handle: whether the JPEG engine decodes it).</summary>
    public NvJpegStatus IsBatchedSupported(EncodedImage image, out bool supported)
    {
        supported = false;
        var status = NvJpegApi.nvjpegJpegStreamParseHeader(_library.Pointer, (byte*)image.Data, (nuint)image.Length, _headerStream.Pointer);
        if (status != NvJpegStatus.Success)
            return status;
        status = NvJpegApi.nvjpegDecodeBatchedSupported(_library.Pointer, _headerStream.Pointer, out int answer);
        supported = status == NvJpegStatus.Success && answer == 0; // 0 means supported
        return status;
    }

    /// <summary>
    /// Enqueues one nvjpegDecodeBatched of <paramref name="images"/> into <paramref name="destinations"/> (RGBI) on
    /// <paramref name="stream"/>. As NVIDIA's nvImageCodec does with the hardware decoder (its nvjpeg_hw
    /// extension, github:NVIDIA/nvImageCodec): wait for the previous batch of this state, initialize the state
    /// for this batch's size, decode, record an event. Initializing every batch also resets a state a failed
    /// batch left behind, as nvJPEG's documentation asks.
    /// </summary>
    public NvJpegStatus DecodeBatched(IReadOnlyList<EncodedImage> images, IReadOnlyList<NvJpegImage> destinations, IntPtr stream)
    {
        int n = images.Count;
        // "Any currently running batched decoding should be finished before calling" nvjpegDecodeBatchedInitialize;
        // the arrays of the last batch are free then too.
        _batchedDone.Synchronize();
        NvJpegCheck.ThrowIfFailed(
            NvJpegApi.nvjpegDecodeBatchedInitialize(_library.Pointer, _batchedState.Pointer, n, 1, NvJpegOutputFormat.Rgbi),
            $"nvjpegDecodeBatchedInitialize({n} images)");
        _arrays.Fill(images, destinations);
        var status = NvJpegApi.nvjpegDecodeBatched(_library.Pointer, _batchedState.Pointer, _arrays.Data, _arrays.Lengths, _arrays.Destinations, stream);
        CudaCheck.ThrowIfFailed(CudaDriverApi.cuEventRecord(_batchedDone.Pointer, stream), "cuEventRecord");
        return status;
    }

    /// <summary>Waits until no work this session enqueued is running (before freeing what it reads or writes).</summary>
    public void WaitIdle()
    {
        _batchedDone.Synchronize();
        Decoupled.WaitIdle();
    }

    private static (NvJpegLibraryHandle Library, bool Hardware, string Setup) CreateLibrary(IntPtr context, bool useHardware, bool interpolated)
    {
        // Candidates in order of preference; the first that nvjpegCreateEx accepts wins. The interpolation flag
        // is new in CUDA 12 and a hardware handle may refuse it: then the same backend is tried without it.
        var candidates = new List<(NvJpegBackend Backend, uint Flags)>();
        NvJpegBackend[] backends = useHardware ? [NvJpegBackend.Hardware, NvJpegBackend.Default] : [NvJpegBackend.Default];
        foreach (var backend in backends)
        {
            if (interpolated)
                candidates.Add((backend, UpsamplingWithInterpolation));
            candidates.Add((backend, NvJpegApi.FlagsDefault));
        }
        var refused = new List<string>();
        NvJpegException? firstError = null;
        foreach (var (backend, flags) in candidates)
        {
            var status = NvJpegLibraryHandle.TryCreate(backend, flags, context, out var handle);
            if (handle is not null)
            {
                string setup = $"{backend} backend" + (flags != 0 ? ", chroma upsampled by interpolation" : "") +
                    (refused.Count > 0 ? $" (refused: {string.Join("; ", refused)})" : "");
                return (handle, backend == NvJpegBackend.Hardware, setup);
            }
            firstError ??= NvJpegCheck.Failure(status, $"nvjpegCreateEx({backend} backend, flags {flags})");
            refused.Add($"{backend} backend{(flags != 0 ? " with interpolated upsampling" : "")}: {NvJpegException.NameOf(status)}");
        }
        throw new NvJpegException(firstError!.Status, $"nvJPEG could not start on this GPU: {string.Join("; ", refused)}.");
    }

    public void Dispose()
    {
        // Nothing may be freed while the GPU still uses it; then the objects go in reverse order of creation
        // (their references on each other would keep the order right anyway).
        try
        {
            _batchedDone?.Synchronize();
            Decoupled?.WaitIdle();
        }
        catch (CudaException)
        {
            // A failed stream reports its error here too; freeing is still right.
        }
        _owned.Dispose();
        _arrays.Dispose();
    }
}
