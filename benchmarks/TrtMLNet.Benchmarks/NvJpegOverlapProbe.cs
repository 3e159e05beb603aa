using System.Diagnostics;
using System.Globalization;
using TrtMLNet.Images;
using TrtMLNet.Images.Gpu;
using TrtMLNet.Native.Cuda;

namespace TrtMLNet.Benchmarks;

/// <summary>
/// Does an nvJPEG batch decode wait for work on other streams? The image job's two lanes decode one batch
/// while the other's engine runs, yet throughput barely beats one lane: either the decode and the engine
/// serialize (a device-wide wait inside nvJPEG) or they compete for the same SMs. This queues a known amount
/// of device work (memsets) on a stream of its own, then decodes a batch on another stream, and reports how
/// long the decode call held the host and whether the other stream's work had finished by the time it
/// returned. It then measures decode throughput alone and with the other stream kept busy.
/// </summary>
internal static class NvJpegOverlapProbe
{
    private const long BusyBytes = 1L << 30;

    public static void Run(CudaDevice device, EncodedImage[] images, ImageTensorLayout layout, int batch, TextWriter report)
    {
        using var busyMemory = device.Allocate(BusyBytes, "probe: busy work");
        using var busyStream = device.CreateStream();
        using var busyDone = device.CreateEvent();
        using var decodeStream = device.CreateStream();
        using var output = device.Allocate((long)batch * layout.RowBytes, "probe: batch");
        using var decoder = new NvJpegBatchDecoder(device, new NvJpegDecoderOptions { UseHardwareDecoder = true });
        var first = images.Take(batch).ToArray();

        // Warm the decoder and measure the busy work alone.
        decoder.DecodeInto(first, output.Pointer, layout.RowBytes, layout, BadImagePolicy.Fail, decodeStream.Pointer);
        decodeStream.Synchronize();
        int memsets = 1;
        double busyMs;
        while (true)
        {
            var watch = Stopwatch.StartNew();
            Busy(busyStream, busyMemory, memsets);
            busyStream.Synchronize();
            busyMs = watch.Elapsed.TotalMilliseconds;
            if (busyMs >= 150 || memsets >= 1 << 14)
                break;
            memsets *= 2;
        }
        report.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"## Does a decode wait for other streams? busy work: {memsets} memsets of {BusyBytes >> 20} MiB on another stream, {busyMs:0.0} ms alone"));
        report.WriteLine("| case | decode call, host ms | decode done, ms | busy work done when the call returned |");
        report.WriteLine("|---|---:|---:|---|");
        for (int trial = 0; trial < 3; trial++)
        {
            var (call, done, _) = Decode(decoder, first, output, layout, decodeStream);
            report.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| decode alone | {call:0.00} | {done:0.00} | |"));
            Busy(busyStream, busyMemory, memsets);
            busyDone.Record(busyStream);
            var (callBusy, doneBusy, _) = Decode(decoder, first, output, layout, decodeStream);
            var busyFinished = busyDone.IsComplete();
            busyStream.Synchronize();
            report.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| decode with {busyMs:0} ms queued on another stream | {callBusy:0.00} | {doneBusy:0.00} | {(busyFinished ? "yes: the decode waited for it" : "no: they overlapped")} |"));
        }
        report.Flush();
    }

    private static void Busy(CudaStream stream, CudaDeviceMemory memory, int memsets)
    {
        for (int i = 0; i < memsets; i++)
            stream.Memset(memory.Pointer, (byte)i, memory.Bytes);
    }

    private static (double CallMs, double DoneMs, GpuDecodeResult Result) Decode(NvJpegBatchDecoder decoder, EncodedImage[] images, CudaDeviceMemory output,
        ImageTensorLayout layout, CudaStream stream)
    {
        var watch = Stopwatch.StartNew();
        var result = decoder.DecodeInto(images, output.Pointer, layout.RowBytes, layout, BadImagePolicy.Fail, stream.Pointer);
        var call = watch.Elapsed.TotalMilliseconds;
        stream.Synchronize();
        return (call, watch.Elapsed.TotalMilliseconds, result);
    }
}
