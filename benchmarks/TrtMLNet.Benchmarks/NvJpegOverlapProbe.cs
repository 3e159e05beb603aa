using System.Diagnostics;
using System.Globalization;
using TrtMLNet.Images;
using TrtMLNet.Images.Gpu;
using TrtMLNet.Native.Cuda;
using TrtMLNet.Native.NvJpeg;

namespace TrtMLNet.Benchmarks;

/// <summary>
/// Does an nvJPEG batch decode wait for work on other streams? The image job's two lanes decode one batch
/// while the other's engine runs, yet throughput barely beats one lane: either the decode and the engine
/// serialize or they compete for the device. This queues a known amount of work on a stream of its own, then
/// decodes a batch on another stream, and reports how long the call held the host and whether the other
/// stream's work had finished by the time it returned: for nvJPEG's own call (nvjpegDecodeBatched on the
/// hardware backend) and for the whole of TrtMLNet's decode (headers, nvJPEG, resize kernels). Two kinds of
/// work: kernels that keep every SM busy (as an engine's convolutions do) and memsets (copies' engines and
/// memory bandwidth).
/// </summary>
internal static class NvJpegOverlapProbe
{
    // A kernel that spins for a number of clock cycles: SM-bound busy work, checked with ptxas -arch=sm_70.
    private const string SpinPtx = """
        .version 6.0
        .target sm_70
        .address_size 64

        .visible .entry spin(
            .param .u64 spin_cycles
        )
        {
            .reg .pred %p<2>;
            .reg .b64 %rd<5>;
            ld.param.u64 %rd1, [spin_cycles];
            mov.u64 %rd2, %clock64;
        $L_loop:
            mov.u64 %rd3, %clock64;
            sub.s64 %rd4, %rd3, %rd2;
            setp.lt.u64 %p1, %rd4, %rd1;
            @%p1 bra $L_loop;
            ret;
        }
        """;

    private const double TargetBusyMs = 150;

    /// <param name="threadsOnly">Skip the overlap tables and the phase and context probes; run <see cref="NvJpegThreadsProbe"/>.</param>
    public static void Run(CudaDevice device, EncodedImage[] images, ImageTensorLayout layout, int batch, bool threadsOnly, TextWriter report)
    {
        using var memsetTarget = device.Allocate(1L << 30, "probe: memset target");
        using var spinModule = device.LoadModule(SpinPtx);
        var spin = spinModule.GetFunction("spin");
        using var busyStream = device.CreateStream();
        using var busyDone = device.CreateEvent();
        using var decodeStream = device.CreateStream();
        using var output = device.Allocate((long)batch * layout.RowBytes, "probe: batch");
        using var decoder = new NvJpegBatchDecoder(device, new NvJpegDecoderOptions { UseHardwareDecoder = true });
        using var session = new NvJpegSession(device, useHardware: true, interpolatedUpsampling: false, hostThreads: 1);
        using var software = new NvJpegSession(device, useHardware: false, interpolatedUpsampling: false, hostThreads: 1);
        var first = images.Take(batch).ToArray();
        var (decoded, destinations) = Destinations(device, session, first);
        using var _ = decoded;

        void DecodeWhole() => decoder.DecodeInto(first, output.Pointer, layout.RowBytes, layout, BadImagePolicy.Fail, decodeStream.Pointer);
        void DecodeNvJpegOnly()
        {
            NvJpegCheck.ThrowIfFailed(session.DecodeBatched(first, destinations, decodeStream.Pointer), "nvjpegDecodeBatched (probe)");
        }
        // The decoupled default backend on one thread: Huffman on this thread, the rest as kernels.
        int[] all = [.. Enumerable.Range(0, first.Length)];
        void DecodeDecoupled()
        {
            var results = software.Decoupled.Decode(first, all, destinations, decodeStream.Pointer);
            for (int i = 0; i < results.Length; i++)
                NvJpegCheck.ThrowIfFailed(results[i].Status, $"{results[i].Phase} (probe)");
        }
        DecodeWhole();
        DecodeNvJpegOnly();
        DecodeDecoupled();
        decodeStream.Synchronize();

        var spinCycles = Calibrate(busyStream, cycles => SpinAll(spin, busyStream, cycles), 50_000_000UL);
        void Memsets(ulong count)
        {
            for (ulong i = 0; i < count; i++)
                busyStream.Memset(memsetTarget.Pointer, (byte)i, memsetTarget.Bytes);
        }
        var memsets = Calibrate(busyStream, Memsets, 8UL);
        var busyKinds = new (string Name, Action Enqueue)[]
        {
            ("spin kernels on every SM", () => SpinAll(spin, busyStream, spinCycles.Amount)),
            ("1 GiB memsets", () => Memsets(memsets.Amount)),
        };
        if (threadsOnly)
        {
            report.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# busy work alone: spin kernels {spinCycles.Ms:0} ms, memsets {memsets.Ms:0} ms"));
            NvJpegThreadsProbe.Run(device, first, destinations, busyKinds[0].Enqueue, busyKinds[1].Enqueue, busyStream, busyDone, report);
            return;
        }
        // The same spin kernels on the decode's own stream: nvJPEG's hardware backend is said to write without
        // waiting for work queued before it on its stream (github:meta-pytorch/torchcodec).
        void SpinOnDecodeStream() => SpinAll(spin, decodeStream, spinCycles.Amount);
        report.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"## Does a decode wait for work on other streams? {first.Length} JPEGs; busy work alone: spin kernels {spinCycles.Ms:0} ms, memsets {memsets.Ms:0} ms"));
        report.WriteLine("| decode | busy work queued on another stream | call, host ms | done, ms | busy work done when the call returned |");
        report.WriteLine("|---|---|---:|---:|---|");
        foreach (var (what, decode) in new (string, Action)[]
        {
            ("nvjpegDecodeBatched only", DecodeNvJpegOnly), ("TrtMLNet's whole decode", DecodeWhole), ("decoupled default backend, one by one", DecodeDecoupled),
        })
        {
            for (int trial = 0; trial < 2; trial++)
            {
                var (call, done) = Time(decode, decodeStream);
                report.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {what} | none | {call:0.00} | {done:0.00} | |"));
                foreach (var (name, enqueue) in busyKinds)
                {
                    enqueue();
                    busyDone.Record(busyStream);
                    var (callBusy, doneBusy) = Time(decode, decodeStream);
                    var finished = busyDone.IsComplete();
                    busyStream.Synchronize();
                    report.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {what} | {name} | {callBusy:0.00} | {doneBusy:0.00} | {(finished ? "yes: the call waited for it" : "no: they overlapped")} |"));
                }
                SpinOnDecodeStream();
                busyDone.Record(decodeStream);
                var watch = Stopwatch.StartNew();
                decode();
                var callSame = watch.Elapsed.TotalMilliseconds;
                var finishedSame = busyDone.IsComplete();
                decodeStream.Synchronize();
                report.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {what} | spin kernels on the decode's own stream | {callSame:0.00} | {watch.Elapsed.TotalMilliseconds:0.00} | {(finishedSame ? "yes: the call waited for it" : "no: the call returned first")} |"));
            }
        }
        report.Flush();
        NvJpegPhaseProbe.Run(device, first, destinations, busyKinds[0].Enqueue, busyStream, busyDone, decodeStream, report);
        device.MakeCurrent();
        decodeStream.Memset(decoded.Pointer, 0, decoded.Bytes);
        DecodeNvJpegOnly();
        decodeStream.Synchronize();
        NvJpegContextProbe.Run(device, first, decoded, destinations, busyKinds[0].Enqueue, busyStream, busyDone, decodeStream, report);
    }

    private static unsafe void SpinAll(IntPtr spin, CudaStream stream, ulong cycles)
    {
        // More blocks than the SMs hold at once, so every SM stays busy for the whole of it.
        CudaModule.Launch(spin, (4096, 1, 1), (256, 1, 1), stream.Pointer, (IntPtr)(&cycles));
    }

    /// <summary>Doubles the amount of busy work until it takes <see cref="TargetBusyMs"/>; returns the amount and its time.</summary>
    private static (ulong Amount, double Ms) Calibrate(CudaStream stream, Action<ulong> enqueue, ulong start)
    {
        for (var amount = start; ; amount *= 2)
        {
            var watch = Stopwatch.StartNew();
            enqueue(amount);
            stream.Synchronize();
            var ms = watch.Elapsed.TotalMilliseconds;
            if (ms >= TargetBusyMs || amount >= start << 12)
                return (amount, ms);
        }
    }

    private static (double CallMs, double DoneMs) Time(Action decode, CudaStream stream)
    {
        var watch = Stopwatch.StartNew();
        decode();
        var call = watch.Elapsed.TotalMilliseconds;
        stream.Synchronize();
        return (call, watch.Elapsed.TotalMilliseconds);
    }

    /// <summary>Device memory for each image decoded as interleaved RGB, and nvJPEG's descriptions of it.</summary>
    private static (CudaDeviceMemory Memory, NvJpegImage[] Destinations) Destinations(CudaDevice device, NvJpegSession session, EncodedImage[] images)
    {
        var sizes = images.Select(image =>
        {
            NvJpegCheck.ThrowIfFailed(session.GetImageInfo(image, out int width, out int height, out _, out _), $"nvjpegGetImageInfo on {image.Source}");
            return (Width: width, Height: height);
        }).ToArray();
        var memory = device.Allocate(sizes.Sum(s => s.Width * 3L * s.Height + 256), "probe: decoded pixels");
        var destinations = new NvJpegImage[images.Length];
        long offset = 0;
        for (int i = 0; i < images.Length; i++)
        {
            destinations[i] = NvJpegImage.Interleaved(memory.Pointer + (nint)offset, sizes[i].Width * 3L);
            offset += (sizes[i].Width * 3L * sizes[i].Height + 255) / 256 * 256;
        }
        return (memory, destinations);
    }
}
