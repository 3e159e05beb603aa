namespace TrtMLNet.Native.NvJpeg;

/// <summary>nvjpegHandle_t: the library handle, bound to the CUDA context current when it was made.</summary>
internal sealed class NvJpegLibraryHandle(IntPtr context) : NvJpegObject(context, NvJpegApi.nvjpegDestroy)
{
    /// <summary>
    /// nvjpegCreateEx with nvJPEG's default allocators (cudaMalloc and cudaHostAlloc, freed with the handle).
    /// The caller makes <paramref name="context"/> current first.
    /// </summary>
    public static NvJpegLibraryHandle Create(NvJpegBackend backend, uint flags, IntPtr context) =>
        Create(new NvJpegLibraryHandle(context), $"nvjpegCreateEx({backend} backend)",
            (out IntPtr raw) => NvJpegApi.nvjpegCreateEx(backend, IntPtr.Zero, IntPtr.Zero, flags, out raw));

    /// <summary>Like <see cref="Create"/>, but returns the status instead of throwing when creation fails.</summary>
    public static NvJpegStatus TryCreate(NvJpegBackend backend, uint flags, IntPtr context, out NvJpegLibraryHandle? handle)
    {
        try
        {
            handle = Create(backend, flags, context);
            return NvJpegStatus.Success;
        }
        catch (NvJpegException e)
        {
            handle = null;
            return e.Status;
        }
    }
}

/// <summary>
/// nvjpegJpegState_t: the state of one decode at a time (batched, or one decoupled decoder's). Not
/// thread safe: one per lane. Holds the buffers attached to it.
/// </summary>
internal sealed class NvJpegState(IntPtr context) : NvJpegObject(context, NvJpegApi.nvjpegJpegStateDestroy)
{
    /// <summary>A state for the library handle's own (batched) decoding.</summary>
    public static NvJpegState Create(NvJpegLibraryHandle library) =>
        Create(new NvJpegState(library.Context), "nvjpegJpegStateCreate",
            (out IntPtr raw) => NvJpegApi.nvjpegJpegStateCreate(library.Pointer, out raw), library);

    /// <summary>A state for a decoupled decoder.</summary>
    public static NvJpegState Create(NvJpegLibraryHandle library, NvJpegDecoder decoder) =>
        Create(new NvJpegState(library.Context), "nvjpegDecoderStateCreate",
            (out IntPtr raw) => NvJpegApi.nvjpegDecoderStateCreate(library.Pointer, decoder.Pointer, out raw), library, decoder);

    public void Attach(NvJpegPinnedBuffer buffer)
    {
        NvJpegCheck.ThrowIfFailed(NvJpegApi.nvjpegStateAttachPinnedBuffer(Pointer, buffer.Pointer), "nvjpegStateAttachPinnedBuffer");
        Depend(buffer);
    }

    public void Attach(NvJpegDeviceBuffer buffer)
    {
        NvJpegCheck.ThrowIfFailed(NvJpegApi.nvjpegStateAttachDeviceBuffer(Pointer, buffer.Pointer), "nvjpegStateAttachDeviceBuffer");
        Depend(buffer);
    }
}

/// <summary>nvjpegJpegDecoder_t: a decoupled (three-phase) decoder of one backend.</summary>
internal sealed class NvJpegDecoder(IntPtr context) : NvJpegObject(context, NvJpegApi.nvjpegDecoderDestroy)
{
    public static NvJpegDecoder Create(NvJpegLibraryHandle library, NvJpegBackend backend) =>
        Create(new NvJpegDecoder(library.Context), $"nvjpegDecoderCreate({backend} backend)",
            (out IntPtr raw) => NvJpegApi.nvjpegDecoderCreate(library.Pointer, backend, out raw), library);
}

/// <summary>nvjpegBufferPinned_t: pinned host memory a decoupled state stages through (grown by nvJPEG).</summary>
internal sealed class NvJpegPinnedBuffer(IntPtr context) : NvJpegObject(context, NvJpegApi.nvjpegBufferPinnedDestroy)
{
    public static NvJpegPinnedBuffer Create(NvJpegLibraryHandle library) =>
        Create(new NvJpegPinnedBuffer(library.Context), "nvjpegBufferPinnedCreate",
            (out IntPtr raw) => NvJpegApi.nvjpegBufferPinnedCreate(library.Pointer, IntPtr.Zero, out raw), library);

    /// <summary>Bytes it holds now (nvjpegBufferPinnedRetrieve); not while another thread's call uses it.</summary>
    public long Bytes => Checked(NvJpegApi.nvjpegBufferPinnedRetrieve(Pointer, out var size, out _), (long)size, "nvjpegBufferPinnedRetrieve");
}

/// <summary>nvjpegBufferDevice_t: device memory a decoupled state decodes in (grown by nvJPEG).</summary>
internal sealed class NvJpegDeviceBuffer(IntPtr context) : NvJpegObject(context, NvJpegApi.nvjpegBufferDeviceDestroy)
{
    public static NvJpegDeviceBuffer Create(NvJpegLibraryHandle library) =>
        Create(new NvJpegDeviceBuffer(library.Context), "nvjpegBufferDeviceCreate",
            (out IntPtr raw) => NvJpegApi.nvjpegBufferDeviceCreate(library.Pointer, IntPtr.Zero, out raw), library);

    /// <summary>Bytes it holds now (nvjpegBufferDeviceRetrieve); not while another thread's call uses it.</summary>
    public long Bytes => Checked(NvJpegApi.nvjpegBufferDeviceRetrieve(Pointer, out var size, out _), (long)size, "nvjpegBufferDeviceRetrieve");
}

/// <summary>nvjpegJpegStream_t: a parsed bitstream, on the host.</summary>
internal sealed class NvJpegStream(IntPtr context) : NvJpegObject(context, NvJpegApi.nvjpegJpegStreamDestroy)
{
    public static NvJpegStream Create(NvJpegLibraryHandle library) =>
        Create(new NvJpegStream(library.Context), "nvjpegJpegStreamCreate",
            (out IntPtr raw) => NvJpegApi.nvjpegJpegStreamCreate(library.Pointer, out raw), library);
}

/// <summary>nvjpegDecodeParams_t: the output format (and ROI, CMYK, ...) of decoupled decodes.</summary>
internal sealed class NvJpegDecodeParams(IntPtr context) : NvJpegObject(context, NvJpegApi.nvjpegDecodeParamsDestroy)
{
    public static NvJpegDecodeParams Create(NvJpegLibraryHandle library, NvJpegOutputFormat format)
    {
        var parameters = Create(new NvJpegDecodeParams(library.Context), "nvjpegDecodeParamsCreate",
            (out IntPtr raw) => NvJpegApi.nvjpegDecodeParamsCreate(library.Pointer, out raw), library);
        try
        {
            NvJpegCheck.ThrowIfFailed(NvJpegApi.nvjpegDecodeParamsSetOutputFormat(parameters.Pointer, format), "nvjpegDecodeParamsSetOutputFormat");
            return parameters;
        }
        catch
        {
            parameters.Dispose();
            throw;
        }
    }
}
