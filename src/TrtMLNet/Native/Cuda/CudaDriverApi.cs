using System.Runtime.InteropServices;

namespace TrtMLNet.Native.Cuda;

/// <summary>
/// The CUDA driver API functions TrtMLNet uses, P/Invoked from libcuda.so.1 / nvcuda.dll (ManagedCuda
/// is not available to us, and a few dozen functions do not justify a dependency). The versioned
/// entry points (_v2) are the ones cuda.h maps the plain names to since CUDA 3.2/4.0.
/// </summary>
internal static partial class CudaDriverApi
{
    static CudaDriverApi() => NativeLibraries.EnsureRegistered();

    private const string Lib = NativeLibraries.CudaDriver;

    [LibraryImport(Lib)] internal static partial CudaError cuInit(uint flags);
    [LibraryImport(Lib)] internal static partial CudaError cuDriverGetVersion(out int version);
    [LibraryImport(Lib)] internal static partial CudaError cuGetErrorName(CudaError error, out IntPtr name);
    [LibraryImport(Lib)] internal static partial CudaError cuGetErrorString(CudaError error, out IntPtr text);

    [LibraryImport(Lib)] internal static partial CudaError cuDeviceGetCount(out int count);
    [LibraryImport(Lib)] internal static partial CudaError cuDeviceGet(out int device, int ordinal);
    [LibraryImport(Lib)] internal static unsafe partial CudaError cuDeviceGetName(byte* name, int length, int device);
    [LibraryImport(Lib)] internal static partial CudaError cuDeviceGetAttribute(out int value, CudaDeviceAttribute attribute, int device);
    [LibraryImport(Lib, EntryPoint = "cuDeviceTotalMem_v2")] internal static partial CudaError cuDeviceTotalMem(out nuint bytes, int device);

    [LibraryImport(Lib)] internal static partial CudaError cuDevicePrimaryCtxRetain(out IntPtr context, int device);
    [LibraryImport(Lib)] internal static partial CudaError cuCtxSetCurrent(IntPtr context);
    [LibraryImport(Lib)] internal static partial CudaError cuThreadExchangeStreamCaptureMode(ref int mode);

    [LibraryImport(Lib, EntryPoint = "cuMemGetInfo_v2")] internal static partial CudaError cuMemGetInfo(out nuint free, out nuint total);
    [LibraryImport(Lib, EntryPoint = "cuMemAlloc_v2")] internal static partial CudaError cuMemAlloc(out IntPtr pointer, nuint bytes);
    [LibraryImport(Lib, EntryPoint = "cuMemFree_v2")] internal static partial CudaError cuMemFree(IntPtr pointer);
    [LibraryImport(Lib)] internal static partial CudaError cuMemHostAlloc(out IntPtr pointer, nuint bytes, uint flags);
    [LibraryImport(Lib)] internal static partial CudaError cuMemFreeHost(IntPtr pointer);

    [LibraryImport(Lib, EntryPoint = "cuMemcpyHtoDAsync_v2")] internal static partial CudaError cuMemcpyHtoDAsync(IntPtr destination, IntPtr source, nuint bytes, IntPtr stream);
    [LibraryImport(Lib, EntryPoint = "cuMemcpyDtoHAsync_v2")] internal static partial CudaError cuMemcpyDtoHAsync(IntPtr destination, IntPtr source, nuint bytes, IntPtr stream);
    [LibraryImport(Lib, EntryPoint = "cuMemcpyDtoDAsync_v2")] internal static partial CudaError cuMemcpyDtoDAsync(IntPtr destination, IntPtr source, nuint bytes, IntPtr stream);
    [LibraryImport(Lib)] internal static partial CudaError cuMemsetD8Async(IntPtr destination, byte value, nuint count, IntPtr stream);

    [LibraryImport(Lib)] internal static partial CudaError cuStreamCreateWithPriority(out IntPtr stream, uint flags, int priority);
    [LibraryImport(Lib)] internal static partial CudaError cuCtxGetStreamPriorityRange(out int leastPriority, out int greatestPriority);
    [LibraryImport(Lib, EntryPoint = "cuStreamDestroy_v2")] internal static partial CudaError cuStreamDestroy(IntPtr stream);
    [LibraryImport(Lib)] internal static partial CudaError cuStreamSynchronize(IntPtr stream);
    [LibraryImport(Lib)] internal static partial CudaError cuStreamWaitEvent(IntPtr stream, IntPtr cudaEvent, uint flags);

    [LibraryImport(Lib)] internal static partial CudaError cuEventCreate(out IntPtr cudaEvent, uint flags);
    [LibraryImport(Lib, EntryPoint = "cuEventDestroy_v2")] internal static partial CudaError cuEventDestroy(IntPtr cudaEvent);
    [LibraryImport(Lib)] internal static partial CudaError cuEventRecord(IntPtr cudaEvent, IntPtr stream);
    [LibraryImport(Lib)] internal static partial CudaError cuEventQuery(IntPtr cudaEvent);
    [LibraryImport(Lib)] internal static partial CudaError cuEventSynchronize(IntPtr cudaEvent);
    [LibraryImport(Lib)] internal static partial CudaError cuEventElapsedTime(out float milliseconds, IntPtr start, IntPtr end);

    [LibraryImport(Lib)] internal static partial CudaError cuModuleLoadData(out IntPtr module, IntPtr image);
    [LibraryImport(Lib)] internal static partial CudaError cuModuleUnload(IntPtr module);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial CudaError cuModuleGetFunction(out IntPtr function, IntPtr module, string name);
    [LibraryImport(Lib)]
    internal static partial CudaError cuLaunchKernel(IntPtr function, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint blockZ,
        uint sharedMemBytes, IntPtr stream, IntPtr kernelParams, IntPtr extra);

    internal const uint StreamNonBlocking = 0x1;
    /// <summary>CU_STREAM_CAPTURE_MODE_THREAD_LOCAL (cuda.h): a thread minds only its own captures.</summary>
    internal const int StreamCaptureModeThreadLocal = 1;
    internal const uint EventBlockingSync = 0x1;
    internal const uint EventDisableTiming = 0x2;
    internal const uint HostAllocPortable = 0x1;
}

internal enum CudaDeviceAttribute
{
    ComputeCapabilityMajor = 75,
    ComputeCapabilityMinor = 76,
}
