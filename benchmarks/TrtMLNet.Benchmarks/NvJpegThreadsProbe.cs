using System.Diagnostics;
using System.Globalization;
using TrtMLNet.Images;
using TrtMLNet.Images.Gpu;
using TrtMLNet.Native.Cuda;
using TrtMLNet.Native.NvJpeg;

namespace TrtMLNet.Benchmarks;

/// <summary>
/// Does nvJPEG's decoupled decoder keep up with the engine when its Huffman decoding runs on many cores, and
/// does it wait for other work on the device? The hardware decoder waits for the whole device
/// (NvJpegOverlapProbe), so a lane's decode and another lane's engine cannot overlap. This decodes one batch
/// with TrtMLNet's <see cref="NvJpegDecoupledDecoder"/> on 1 to 16 threads, alone and with busy work queued on
/// another stream; and times the default backend's nvjpegDecodeBatched the same way. (Its first run, in
/// docs/results/nvjpeg-threads-probe-h200.md, gave each thread a session and a stream of its own.)
/// </summary>
internal static class NvJpegThreadsProbe
{
    public static void Run(CudaDevice device, EncodedImage[] images, IReadOnlyList<NvJpegImage> destinations, Action spinBusy, Action memsetBusy,
        CudaStream busyStream, CudaEvent busyDone, TextWriter report)
    {
        report.WriteLine();
        report.WriteLine($"## nvJPEG's decoupled decoder on many threads ({images.Length} JPEGs; NvJpegDecoupledDecoder)");
        report.WriteLine("| threads | busy work queued on another stream | ms | images/s | busy work done when the decode finished |");
        report.WriteLine("|---:|---|---:|---:|---|");
        var loads = new (string Name, Action? Enqueue)[] { ("none", null), ("1 GiB memsets", memsetBusy), ("spin kernels on every SM", spinBusy) };
        int[] all = [.. Enumerable.Range(0, images.Length)];
        using var stream = device.CreateStream();
        foreach (var threads in new[] { 1, 2, 4, 8, 12, 16 })
        {
            using var session = new NvJpegSession(device, useHardware: false, interpolatedUpsampling: false, hostThreads: threads);
            void Decode()
            {
                var results = session.Decoupled.Decode(images, all, destinations, stream.Pointer);
                for (int i = 0; i < results.Length; i++)
                    NvJpegCheck.ThrowIfFailed(results[i].Status, $"{results[i].Phase} (probe, {images[i].Source})");
                stream.Synchronize();
            }
            Decode(); // warm-up: buffers grow to the images' size
            foreach (var (name, enqueue) in loads)
                for (int trial = 0; trial < 2; trial++)
                    Row(report, threads.ToString(CultureInfo.InvariantCulture), name, enqueue, Decode, images.Length, busyStream, busyDone);
            report.Flush();
        }

        using var batched = new NvJpegSession(device, useHardware: false, interpolatedUpsampling: false, hostThreads: 1);
        void DecodeBatched()
        {
            NvJpegCheck.ThrowIfFailed(batched.DecodeBatched(images, destinations, stream.Pointer), "nvjpegDecodeBatched, default backend (probe)");
            stream.Synchronize();
        }
        DecodeBatched();
        foreach (var (name, enqueue) in loads)
            for (int trial = 0; trial < 2; trial++)
                Row(report, "nvjpegDecodeBatched, default backend", name, enqueue, DecodeBatched, images.Length, busyStream, busyDone);
        report.Flush();
    }

    private static void Row(TextWriter report, string what, string load, Action? enqueue, Action decode, int count, CudaStream busyStream, CudaEvent busyDone)
    {
        enqueue?.Invoke();
        busyDone.Record(busyStream);
        var watch = Stopwatch.StartNew();
        decode();
        var ms = watch.Elapsed.TotalMilliseconds;
        var finished = busyDone.IsComplete();
        busyStream.Synchronize();
        var verdict = enqueue is null ? "" : finished ? "yes" : "no: they overlapped";
        report.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {what} | {load} | {ms:0.0} | {count / ms * 1000:N0} | {verdict} |"));
    }
}
