using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using TrtMLNet.Images.Gpu;
using TrtMLNet.Native.Cuda;
using TrtMLNet.Native.NvJpeg;

namespace TrtMLNet.Benchmarks;

/// <summary>
/// Which of nvJPEG's batched calls waits for the whole device, and is it an allocation? A library handle
/// made with allocators of this probe's (nvjpegCreateEx's device and pinned allocators) counts every
/// allocation and free nvJPEG asks for; cudaFree and cudaFreeHost wait for the whole device, so a free per
/// batch would explain the wait. Run twice: allocators that pass through to the driver, and allocators that
/// keep what nvJPEG frees for its next request of the same size. Each call, nvjpegDecodeBatchedInitialize
/// then nvjpegDecodeBatched, is timed with SM-bound work queued on another stream.
/// </summary>
internal static unsafe class NvJpegPhaseProbe
{
    [StructLayout(LayoutKind.Sequential)]
    private struct DeviceAllocator
    {
        public delegate* unmanaged<IntPtr*, nuint, int> Malloc;
        public delegate* unmanaged<IntPtr, int> Free;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PinnedAllocator
    {
        public delegate* unmanaged<IntPtr*, nuint, uint, int> Malloc;
        public delegate* unmanaged<IntPtr, int> Free;
    }

    private static readonly Lock s_gate = new();
    private static readonly Dictionary<IntPtr, (nuint Bytes, bool Pinned)> s_sizes = [];
    private static readonly Dictionary<(nuint Bytes, bool Pinned), Stack<IntPtr>> s_kept = [];
    private static bool s_keep;
    private static int s_deviceMallocs, s_deviceFrees, s_pinnedMallocs, s_pinnedFrees;

    /// <param name="busy">Queues about 200 ms of SM-bound work on <paramref name="busyStream"/>.</param>
    public static void Run(CudaDevice device, EncodedImage[] images, IReadOnlyList<NvJpegImage> destinations, Action busy, CudaStream busyStream,
        CudaEvent busyDone, CudaStream decodeStream, TextWriter report)
    {
        report.WriteLine();
        report.WriteLine("## Which nvJPEG call waits for other streams, and does nvJPEG allocate per batch? (hardware backend, this probe's allocators)");
        report.WriteLine("| allocators | call | host ms | busy work done when the call returned | device allocs / frees | pinned allocs / frees |");
        report.WriteLine("|---|---|---:|---|---:|---:|");
        foreach (var keep in new[] { false, true })
            Measure(device, images, destinations, busy, busyStream, busyDone, decodeStream, keep, report);
        report.Flush();
    }

    private static void Measure(CudaDevice device, EncodedImage[] images, IReadOnlyList<NvJpegImage> destinations, Action busy, CudaStream busyStream,
        CudaEvent busyDone, CudaStream decodeStream, bool keep, TextWriter report)
    {
        device.MakeCurrent();
        s_keep = keep;
        var deviceAllocator = new DeviceAllocator { Malloc = &DeviceMalloc, Free = &DeviceFree };
        var pinnedAllocator = new PinnedAllocator { Malloc = &PinnedMalloc, Free = &PinnedFree };
        NvJpegCheck.ThrowIfFailed(NvJpegApi.nvjpegCreateEx(NvJpegBackend.Hardware, (IntPtr)(&deviceAllocator), (IntPtr)(&pinnedAllocator), NvJpegApi.FlagsDefault, out var handle), "nvjpegCreateEx");
        NvJpegCheck.ThrowIfFailed(NvJpegApi.nvjpegJpegStateCreate(handle, out var state), "nvjpegJpegStateCreate");
        int n = images.Length;
        var arrays = new NvJpegBatchArrays();
        try
        {
            arrays.Fill(images, destinations);
            NvJpegCheck.ThrowIfFailed(NvJpegApi.nvjpegDecodeBatchedPreAllocate(handle, state, 1, 1, 1, NvJpegChromaSubsampling.Css444, NvJpegOutputFormat.Rgbi), "nvjpegDecodeBatchedPreAllocate");
            void Initialize() => NvJpegCheck.ThrowIfFailed(NvJpegApi.nvjpegDecodeBatchedInitialize(handle, state, n, 1, NvJpegOutputFormat.Rgbi), "nvjpegDecodeBatchedInitialize");
            void Decode() => NvJpegCheck.ThrowIfFailed(NvJpegApi.nvjpegDecodeBatched(handle, state, arrays.Data, arrays.Lengths, arrays.Destinations, decodeStream.Pointer), "nvjpegDecodeBatched");
            for (int warm = 0; warm < 3; warm++)
            {
                Initialize();
                Decode();
                decodeStream.Synchronize();
            }
            var name = keep ? "kept for reuse" : "straight to the driver";
            for (int trial = 0; trial < 2; trial++)
            {
                foreach (var (call, action) in new (string, Action)[] { ("nvjpegDecodeBatchedInitialize", Initialize), ("nvjpegDecodeBatched", Decode) })
                {
                    busy();
                    busyDone.Record(busyStream);
                    var counts = Counts();
                    var watch = Stopwatch.StartNew();
                    action();
                    var ms = watch.Elapsed.TotalMilliseconds;
                    var waited = busyDone.IsComplete();
                    var after = Counts();
                    busyStream.Synchronize();
                    decodeStream.Synchronize();
                    report.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {name} | {call} | {ms:0.00} | {(waited ? "yes: it waited" : "no")} | {after.DeviceMallocs - counts.DeviceMallocs} / {after.DeviceFrees - counts.DeviceFrees} | {after.PinnedMallocs - counts.PinnedMallocs} / {after.PinnedFrees - counts.PinnedFrees} |"));
                }
            }
        }
        finally
        {
            arrays.Dispose();
            NvJpegApi.nvjpegJpegStateDestroy(state);
            NvJpegApi.nvjpegDestroy(handle);
            ReleaseKept();
        }
    }

    private static (int DeviceMallocs, int DeviceFrees, int PinnedMallocs, int PinnedFrees) Counts() =>
        (Volatile.Read(ref s_deviceMallocs), Volatile.Read(ref s_deviceFrees), Volatile.Read(ref s_pinnedMallocs), Volatile.Read(ref s_pinnedFrees));

    [UnmanagedCallersOnly]
    private static int DeviceMalloc(IntPtr* pointer, nuint bytes) => Allocate(pointer, bytes, pinned: false, 0, ref s_deviceMallocs);

    [UnmanagedCallersOnly]
    private static int PinnedMalloc(IntPtr* pointer, nuint bytes, uint flags) => Allocate(pointer, bytes, pinned: true, flags, ref s_pinnedMallocs);

    [UnmanagedCallersOnly]
    private static int DeviceFree(IntPtr pointer) => Free(pointer, ref s_deviceFrees);

    [UnmanagedCallersOnly]
    private static int PinnedFree(IntPtr pointer) => Free(pointer, ref s_pinnedFrees);

    // cudaSuccess is 0, cudaErrorMemoryAllocation 2.
    private static int Allocate(IntPtr* pointer, nuint bytes, bool pinned, uint flags, ref int count)
    {
        Interlocked.Increment(ref count);
        lock (s_gate)
        {
            if (s_keep && s_kept.TryGetValue((bytes, pinned), out var kept) && kept.Count > 0)
            {
                *pointer = kept.Pop();
                return 0;
            }
        }
        var size = bytes == 0 ? 1 : bytes;
        var error = pinned ? CudaDriverApi.cuMemHostAlloc(out var allocated, size, flags) : CudaDriverApi.cuMemAlloc(out allocated, size);
        if (error != CudaError.Success)
            return 2;
        lock (s_gate)
            s_sizes[allocated] = (bytes, pinned);
        *pointer = allocated;
        return 0;
    }

    private static int Free(IntPtr pointer, ref int count)
    {
        Interlocked.Increment(ref count);
        if (pointer == IntPtr.Zero)
            return 0;
        (nuint Bytes, bool Pinned) size;
        lock (s_gate)
        {
            if (!s_sizes.TryGetValue(pointer, out size))
                return 1;
            if (s_keep)
            {
                if (!s_kept.TryGetValue(size, out var kept))
                    s_kept[size] = kept = new Stack<IntPtr>();
                kept.Push(pointer);
                return 0;
            }
            s_sizes.Remove(pointer);
        }
        return (size.Pinned ? CudaDriverApi.cuMemFreeHost(pointer) : CudaDriverApi.cuMemFree(pointer)) == CudaError.Success ? 0 : 1;
    }

    private static void ReleaseKept()
    {
        lock (s_gate)
        {
            foreach (var ((_, pinned), kept) in s_kept)
                while (kept.Count > 0)
                {
                    var pointer = kept.Pop();
                    s_sizes.Remove(pointer);
                    _ = pinned ? CudaDriverApi.cuMemFreeHost(pointer) : CudaDriverApi.cuMemFree(pointer);
                }
            s_kept.Clear();
        }
    }
}
