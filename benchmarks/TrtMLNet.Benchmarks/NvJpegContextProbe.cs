using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using TrtMLNet.Images.Gpu;
using TrtMLNet.Native.Cuda;
using TrtMLNet.Native.NvJpeg;

namespace TrtMLNet.Benchmarks;

/// <summary>
/// Does nvjpegDecodeBatched's wait for the whole device stop at its own CUDA context? The phase probe found the
/// wait inside nvjpegDecodeBatched itself, with no allocation or free per batch. A wait for "the device" in the
/// driver is usually a wait for the current context, so this decodes with nvJPEG's hardware backend in a second
/// context of the same GPU while SM-bound work runs in the primary one, then copies the pixels into the
/// primary context (cuMemcpyPeerAsync) and checks them byte for byte against the primary context's own decode.
/// </summary>
internal static unsafe partial class NvJpegContextProbe
{
    /// <summary>The driver calls only this probe makes (the library keeps to the primary context); Linux, as the GPU machine.</summary>
    private static partial class ContextCalls
    {
        private const string Lib = "libcuda.so.1";

        [LibraryImport(Lib, EntryPoint = "cuCtxCreate_v2")] internal static partial CudaError cuCtxCreate(out IntPtr context, uint flags, int device);
        [LibraryImport(Lib, EntryPoint = "cuCtxDestroy_v2")] internal static partial CudaError cuCtxDestroy(IntPtr context);
        [LibraryImport(Lib)] internal static partial CudaError cuCtxEnablePeerAccess(IntPtr peerContext, uint flags);
        [LibraryImport(Lib)]
        internal static partial CudaError cuMemcpyPeerAsync(IntPtr destination, IntPtr destinationContext, IntPtr source, IntPtr sourceContext, nuint bytes, IntPtr stream);
    }

    public static void Run(CudaDevice device, EncodedImage[] images, CudaDeviceMemory decodedInPrimary, IReadOnlyList<NvJpegImage> destinations,
        Action busy, CudaStream busyStream, CudaEvent busyDone, CudaStream primaryStream, TextWriter report)
    {
        report.WriteLine();
        report.WriteLine("## nvJPEG (hardware backend) in a second context of the GPU, SM-bound work in the primary context");
        CudaCheck.ThrowIfFailed(ContextCalls.cuCtxCreate(out var second, 0, device.Handle), "cuCtxCreate");
        IntPtr stream = 0, pixels = 0, handle = 0, state = 0, doneEvent = 0;
        var arrays = new NvJpegBatchArrays();
        try
        {
            CudaCheck.ThrowIfFailed(CudaDriverApi.cuStreamCreateWithPriority(out stream, CudaDriverApi.StreamNonBlocking, 0), "cuStreamCreateWithPriority");
            CudaCheck.ThrowIfFailed(CudaDriverApi.cuEventCreate(out doneEvent, CudaDriverApi.EventBlockingSync | CudaDriverApi.EventDisableTiming), "cuEventCreate");
            CudaCheck.ThrowIfFailed(CudaDriverApi.cuMemAlloc(out pixels, (nuint)decodedInPrimary.Bytes), "cuMemAlloc");
            // Zeroed as the caller zeroed the primary's, so the padding between images compares equal too.
            CudaCheck.ThrowIfFailed(CudaDriverApi.cuMemsetD8Async(pixels, 0, (nuint)decodedInPrimary.Bytes, stream), "cuMemsetD8Async");
            CudaCheck.ThrowIfFailed(CudaDriverApi.cuStreamSynchronize(stream), "cuStreamSynchronize");
            var primaryBase = destinations[0].Channel[0];
            // The same layout as the primary context's pixels, in the second context's memory.
            arrays.Fill(images, [.. destinations.Select(d => NvJpegImage.Interleaved(pixels + (d.Channel[0] - primaryBase), (long)d.Pitch[0]))]);
            NvJpegCheck.ThrowIfFailed(NvJpegApi.nvjpegCreateEx(NvJpegBackend.Hardware, 0, 0, NvJpegApi.FlagsDefault, out handle), "nvjpegCreateEx");
            NvJpegCheck.ThrowIfFailed(NvJpegApi.nvjpegJpegStateCreate(handle, out state), "nvjpegJpegStateCreate");
            NvJpegCheck.ThrowIfFailed(NvJpegApi.nvjpegDecodeBatchedPreAllocate(handle, state, 1, 1, 1, NvJpegChromaSubsampling.Css444, NvJpegOutputFormat.Rgbi), "nvjpegDecodeBatchedPreAllocate");
            void Decode()
            {
                CudaCheck.ThrowIfFailed(CudaDriverApi.cuCtxSetCurrent(second), "cuCtxSetCurrent");
                NvJpegCheck.ThrowIfFailed(NvJpegApi.nvjpegDecodeBatchedInitialize(handle, state, images.Length, 1, NvJpegOutputFormat.Rgbi), "nvjpegDecodeBatchedInitialize");
                NvJpegCheck.ThrowIfFailed(NvJpegApi.nvjpegDecodeBatched(handle, state, arrays.Data, arrays.Lengths, arrays.Destinations, stream), "nvjpegDecodeBatched");
                CudaCheck.ThrowIfFailed(CudaDriverApi.cuEventRecord(doneEvent, stream), "cuEventRecord");
            }
            void WaitDecoded() => CudaCheck.ThrowIfFailed(CudaDriverApi.cuEventSynchronize(doneEvent), "cuEventSynchronize");
            for (int warm = 0; warm < 3; warm++)
            {
                Decode();
                WaitDecoded();
            }

            report.WriteLine("| what | busy work in the primary context | host ms | done ms | busy work done when it returned |");
            report.WriteLine("|---|---|---:|---:|---|");
            for (int trial = 0; trial < 2; trial++)
            {
                foreach (var withBusy in new[] { false, true })
                {
                    device.MakeCurrent();
                    if (withBusy)
                    {
                        busy();
                        busyDone.Record(busyStream);
                    }
                    var watch = Stopwatch.StartNew();
                    Decode();
                    var call = watch.Elapsed.TotalMilliseconds;
                    WaitDecoded();
                    var done = watch.Elapsed.TotalMilliseconds;
                    device.MakeCurrent();
                    var finished = withBusy && busyDone.IsComplete();
                    busyStream.Synchronize();
                    report.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"| decode {images.Length} JPEGs | {(withBusy ? "spin kernels on every SM" : "none")} | {call:0.00} | {done:0.00} | {(withBusy ? finished ? "yes: it waited" : "no: they overlapped" : "")} |"));
                }
            }

            // Ten batches back to back while the busy work runs: is the hardware decoder slowed by sharing the GPU?
            device.MakeCurrent();
            busy();
            busyDone.Record(busyStream);
            var tenWatch = Stopwatch.StartNew();
            for (int i = 0; i < 10; i++)
            {
                Decode();
                WaitDecoded();
            }
            var ten = tenWatch.Elapsed.TotalMilliseconds;
            device.MakeCurrent();
            var tenOverlapped = !busyDone.IsComplete();
            busyStream.Synchronize();
            report.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| 10 decodes back to back | spin kernels on every SM | {ten / 10:0.00} a batch | {ten:0.00} | {(tenOverlapped ? "no: they overlapped" : "yes")} |"));

            // The pixels into the primary context, on one of its streams, and checked against its own decode.
            using var copied = device.Allocate(decodedInPrimary.Bytes, "probe: pixels copied from the second context");
            busy();
            busyDone.Record(busyStream);
            var copyWatch = Stopwatch.StartNew();
            CudaCheck.ThrowIfFailed(ContextCalls.cuMemcpyPeerAsync(copied.Pointer, device.Context, pixels, second, (nuint)decodedInPrimary.Bytes, primaryStream.Pointer), "cuMemcpyPeerAsync");
            primaryStream.Synchronize();
            var copyMs = copyWatch.Elapsed.TotalMilliseconds;
            var copyOverlapped = !busyDone.IsComplete();
            busyStream.Synchronize();
            report.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| cuMemcpyPeerAsync of {decodedInPrimary.Bytes / 1048576.0:0} MiB into the primary context | spin kernels on every SM | | {copyMs:0.00} | {(copyOverlapped ? "no: they overlapped" : "yes: it waited")} |"));
            var peer = ContextCalls.cuCtxEnablePeerAccess(second, 0);
            report.WriteLine($"cuCtxEnablePeerAccess(second context) from the primary: {peer}");
            report.WriteLine($"pixels equal to the primary context's decode: {SameBytes(device, decodedInPrimary, copied, primaryStream)}");
        }
        catch (Exception e)
        {
            report.WriteLine($"context probe failed: {e.Message}");
        }
        finally
        {
            CudaDriverApi.cuCtxSetCurrent(second);
            if (state != 0) NvJpegApi.nvjpegJpegStateDestroy(state);
            if (handle != 0) NvJpegApi.nvjpegDestroy(handle);
            if (pixels != 0) CudaDriverApi.cuMemFree(pixels);
            if (doneEvent != 0) CudaDriverApi.cuEventDestroy(doneEvent);
            if (stream != 0) CudaDriverApi.cuStreamDestroy(stream);
            ContextCalls.cuCtxDestroy(second);
            arrays.Dispose();
            device.MakeCurrent();
        }
        report.Flush();
    }

    private static string SameBytes(CudaDevice device, CudaDeviceMemory a, CudaDeviceMemory b, CudaStream stream)
    {
        using var hostA = device.AllocatePinned(a.Bytes, "probe: host copy");
        using var hostB = device.AllocatePinned(b.Bytes, "probe: host copy");
        CudaCheck.ThrowIfFailed(CudaDriverApi.cuMemcpyDtoHAsync(hostA.Pointer, a.Pointer, (nuint)a.Bytes, stream.Pointer), "cuMemcpyDtoHAsync");
        CudaCheck.ThrowIfFailed(CudaDriverApi.cuMemcpyDtoHAsync(hostB.Pointer, b.Pointer, (nuint)b.Bytes, stream.Pointer), "cuMemcpyDtoHAsync");
        stream.Synchronize();
        var spanA = new ReadOnlySpan<byte>((void*)hostA.Pointer, checked((int)a.Bytes));
        var spanB = new ReadOnlySpan<byte>((void*)hostB.Pointer, checked((int)b.Bytes));
        long differ = 0;
        for (int i = 0; i < spanA.Length; i++)
            if (spanA[i] != spanB[i])
                differ++;
        return differ == 0 ? "yes, every byte" : $"no: {differ} of {spanA.Length} bytes differ";
    }
}
