using System.Runtime.InteropServices;

namespace TrtMLNet.Native.NvJpeg;

/// <summary>
/// The nvJPEG functions TrtMLNet uses, P/Invoked from libnvjpeg (NativeLibraries resolves the file:
/// libnvjpeg.so.13/.12/.11, nvjpeg64_13.dll, ...). Handles and cudaStream_t cross as pointers, enums as
/// ints, size_t as nuint; tests/TrtMLNet.Tests/native/NvJpegAbi/nvjpeg_abi.c holds the C type of each,
/// checked against nvjpeg.h at compile time. Every function here is also listed in
/// <see cref="EntryPoints"/>, which the availability probe looks up before anything is called.
/// </summary>
internal static unsafe partial class NvJpegApi
{
    static NvJpegApi() => NativeLibraries.EnsureRegistered();

    private const string Lib = NativeLibraries.NvJpeg;

    [LibraryImport(Lib)] internal static partial NvJpegStatus nvjpegGetProperty(LibraryProperty type, out int value);

    [LibraryImport(Lib)] internal static partial NvJpegStatus nvjpegCreateEx(NvJpegBackend backend, IntPtr deviceAllocator, IntPtr pinnedAllocator, uint flags, out IntPtr handle);
    [LibraryImport(Lib)] internal static partial NvJpegStatus nvjpegDestroy(IntPtr handle);
    [LibraryImport(Lib)] internal static partial NvJpegStatus nvjpegGetHardwareDecoderInfo(IntPtr handle, out uint engines, out uint coresPerEngine);

    [LibraryImport(Lib)] internal static partial NvJpegStatus nvjpegJpegStateCreate(IntPtr handle, out IntPtr state);
    [LibraryImport(Lib)] internal static partial NvJpegStatus nvjpegJpegStateDestroy(IntPtr state);

    [LibraryImport(Lib)]
    internal static partial NvJpegStatus nvjpegGetImageInfo(IntPtr handle, byte* data, nuint length, out int components,
        out NvJpegChromaSubsampling subsampling, int* widths, int* heights);

    [LibraryImport(Lib)]
    internal static partial NvJpegStatus nvjpegDecodeBatchedInitialize(IntPtr handle, IntPtr state, int batchSize, int maxCpuThreads, NvJpegOutputFormat format);
    [LibraryImport(Lib)]
    internal static partial NvJpegStatus nvjpegDecodeBatched(IntPtr handle, IntPtr state, byte** data, nuint* lengths, NvJpegImage* destinations, IntPtr stream);
    [LibraryImport(Lib)]
    internal static partial NvJpegStatus nvjpegDecodeBatchedPreAllocate(IntPtr handle, IntPtr state, int batchSize, int width, int height,
        NvJpegChromaSubsampling subsampling, NvJpegOutputFormat format);
    [LibraryImport(Lib)] internal static partial NvJpegStatus nvjpegDecodeBatchedSupported(IntPtr handle, IntPtr jpegStream, out int isSupported);

    [LibraryImport(Lib)] internal static partial NvJpegStatus nvjpegJpegStreamCreate(IntPtr handle, out IntPtr jpegStream);
    [LibraryImport(Lib)] internal static partial NvJpegStatus nvjpegJpegStreamDestroy(IntPtr jpegStream);
    [LibraryImport(Lib)] internal static partial NvJpegStatus nvjpegJpegStreamParse(IntPtr handle, byte* data, nuint length, int saveMetadata, int saveStream, IntPtr jpegStream);
    [LibraryImport(Lib)] internal static partial NvJpegStatus nvjpegJpegStreamParseHeader(IntPtr handle, byte* data, nuint length, IntPtr jpegStream);

    [LibraryImport(Lib)] internal static partial NvJpegStatus nvjpegDecoderCreate(IntPtr handle, NvJpegBackend backend, out IntPtr decoder);
    [LibraryImport(Lib)] internal static partial NvJpegStatus nvjpegDecoderDestroy(IntPtr decoder);
    [LibraryImport(Lib)] internal static partial NvJpegStatus nvjpegDecoderStateCreate(IntPtr handle, IntPtr decoder, out IntPtr state);

    [LibraryImport(Lib)] internal static partial NvJpegStatus nvjpegBufferPinnedCreate(IntPtr handle, IntPtr allocator, out IntPtr buffer);
    [LibraryImport(Lib)] internal static partial NvJpegStatus nvjpegBufferPinnedDestroy(IntPtr buffer);
    [LibraryImport(Lib)] internal static partial NvJpegStatus nvjpegBufferDeviceCreate(IntPtr handle, IntPtr allocator, out IntPtr buffer);
    [LibraryImport(Lib)] internal static partial NvJpegStatus nvjpegBufferDeviceDestroy(IntPtr buffer);
    [LibraryImport(Lib)] internal static partial NvJpegStatus nvjpegBufferPinnedRetrieve(IntPtr buffer, out nuint size, out IntPtr pointer);
    [LibraryImport(Lib)] internal static partial NvJpegStatus nvjpegBufferDeviceRetrieve(IntPtr buffer, out nuint size, out IntPtr pointer);
    [LibraryImport(Lib)] internal static partial NvJpegStatus nvjpegStateAttachPinnedBuffer(IntPtr state, IntPtr buffer);
    [LibraryImport(Lib)] internal static partial NvJpegStatus nvjpegStateAttachDeviceBuffer(IntPtr state, IntPtr buffer);

    [LibraryImport(Lib)] internal static partial NvJpegStatus nvjpegDecodeParamsCreate(IntPtr handle, out IntPtr parameters);
    [LibraryImport(Lib)] internal static partial NvJpegStatus nvjpegDecodeParamsDestroy(IntPtr parameters);
    [LibraryImport(Lib)] internal static partial NvJpegStatus nvjpegDecodeParamsSetOutputFormat(IntPtr parameters, NvJpegOutputFormat format);

    [LibraryImport(Lib)] internal static partial NvJpegStatus nvjpegDecodeJpegHost(IntPtr handle, IntPtr decoder, IntPtr state, IntPtr parameters, IntPtr jpegStream);
    [LibraryImport(Lib)] internal static partial NvJpegStatus nvjpegDecodeJpegTransferToDevice(IntPtr handle, IntPtr decoder, IntPtr state, IntPtr jpegStream, IntPtr stream);
    [LibraryImport(Lib)] internal static partial NvJpegStatus nvjpegDecodeJpegDevice(IntPtr handle, IntPtr decoder, IntPtr state, NvJpegImage* destination, IntPtr stream);

    /// <summary>Every function above: the probe checks each is exported, so an old library is reported before a call fails.</summary>
    internal static readonly string[] EntryPoints =
    [
        nameof(nvjpegGetProperty), nameof(nvjpegCreateEx), nameof(nvjpegDestroy), nameof(nvjpegGetHardwareDecoderInfo),
        nameof(nvjpegJpegStateCreate), nameof(nvjpegJpegStateDestroy), nameof(nvjpegGetImageInfo),
        nameof(nvjpegDecodeBatchedInitialize), nameof(nvjpegDecodeBatched), nameof(nvjpegDecodeBatchedPreAllocate), nameof(nvjpegDecodeBatchedSupported),
        nameof(nvjpegJpegStreamCreate), nameof(nvjpegJpegStreamDestroy), nameof(nvjpegJpegStreamParse), nameof(nvjpegJpegStreamParseHeader),
        nameof(nvjpegDecoderCreate), nameof(nvjpegDecoderDestroy), nameof(nvjpegDecoderStateCreate),
        nameof(nvjpegBufferPinnedCreate), nameof(nvjpegBufferPinnedDestroy), nameof(nvjpegBufferDeviceCreate), nameof(nvjpegBufferDeviceDestroy),
        nameof(nvjpegBufferPinnedRetrieve), nameof(nvjpegBufferDeviceRetrieve), nameof(nvjpegStateAttachPinnedBuffer), nameof(nvjpegStateAttachDeviceBuffer),
        nameof(nvjpegDecodeParamsCreate), nameof(nvjpegDecodeParamsDestroy), nameof(nvjpegDecodeParamsSetOutputFormat),
        nameof(nvjpegDecodeJpegHost), nameof(nvjpegDecodeJpegTransferToDevice), nameof(nvjpegDecodeJpegDevice),
    ];

    /// <summary>nvjpegCreateEx flags (nvjpeg.h's NVJPEG_FLAGS_*).</summary>
    internal const uint FlagsDefault = 0;
}
