using System.Diagnostics;
using System.Globalization;
using TrtMLNet.Images;
using TrtMLNet.Images.Gpu;
using TrtMLNet.Native.Cuda;
using TrtMLNet.Native.NvJpeg;

namespace TrtMLNet.Benchmarks;

/// <summary>
/// Could nvJPEG's decoupled default backend keep up with the engine if its Huffman decoding ran on many
/// cores? The hardware decoder waits for the whole device (NvJpegOverlapProbe), so a lane's decode and the
/// other lane's engine cannot overlap. The decoupled decoder does not wait for other streams, but on one
/// thread it took 92-122 ms for 128 images. This decodes one batch split over 1 to 14 threads, each with a
/// session (library handle, state, buffers) and a stream of its own, alone and with busy work queued on
/// another stream; and times the default backend's nvjpegDecodeBatched the same way.
/// </summary>
internal static class NvJpegThreadsProbe
{
    public static void Run(CudaDevice device, EncodedImage[] images, IReadOnlyList<NvJpegImage> destinations, Action spinBusy, Action memsetBusy,
        CudaStream busyStream, CudaEvent busyDone, TextWriter report)
    {
        report.WriteLine();
        report.WriteLine($"## The decoupled default backend on many threads ({images.Length} JPEGs, a session and a stream per thread)");
        report.WriteLine("| threads | busy work queued on another stream | ms | images/s | busy work done when the decode finished |");
        report.WriteLine("|---:|---|---:|---:|---|");
        var loads = new (string Name, Action? Enqueue)[] { ("none", null), ("1 GiB memsets", memsetBusy), ("spin kernels on every SM", spinBusy) };
        foreach (var threads in new[] { 1, 2, 4, 8, 12, 14 })
        {
            var sessions = new List<(NvJpegSession Session, CudaStream Stream)>();
            try
            {
                for (int t = 0; t < threads; t++)
                    sessions.Add((new NvJpegSession(device, useHardware: false, interpolatedUpsampling: false), device.CreateStream()));
                void Decode() => Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
                {
                    device.MakeCurrent();
                    var (session, stream) = sessions[t];
                    session.BeginDecoupled();
                    for (int i = t, sequence = 0; i < images.Length; i += threads)
                    {
                        var status = session.DecodeOne(images[i], destinations[i], sequence++, stream.Pointer, out var phase);
                        NvJpegException.ThrowIfFailed(status, $"{phase} (probe, {images[i].Source})");
                    }
                    stream.Synchronize();
                });
                Decode(); // warm-up: buffers grow to the images' size
                foreach (var (name, enqueue) in loads)
                    for (int trial = 0; trial < 2; trial++)
                        Row(report, threads.ToString(CultureInfo.InvariantCulture), name, enqueue, Decode, images.Length, busyStream, busyDone);
                report.Flush();
            }
            finally
            {
                foreach (var (session, stream) in sessions)
                {
                    session.Dispose();
                    stream.Dispose();
                }
            }
        }

        using var batched = new NvJpegSession(device, useHardware: false, interpolatedUpsampling: false);
        using var batchedStream = device.CreateStream();
        void DecodeBatched()
        {
            NvJpegException.ThrowIfFailed(batched.DecodeBatched(images, destinations, batchedStream.Pointer), "nvjpegDecodeBatched, default backend (probe)");
            batchedStream.Synchronize();
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
