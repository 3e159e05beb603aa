using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using TrtMLNet.Images;
using TrtMLNet.Images.Gpu;
using TrtMLNet.Native.Cuda;
using TrtMLNet.Native.NvJpeg;

namespace TrtMLNet.Benchmarks;

/// <summary>
/// The GPU image path alone: a folder of JPEGs, already in pinned host memory (the staging a batch scoring
/// job fills from disk), decoded by nvJPEG and resized, cropped and normalised by the resize kernels into a
/// device batch tensor, batch after batch, on one or more lanes (a decoder and a stream each). Images/s,
/// hardware JPEG engine against the hybrid decoder (Huffman decoding on the host's threads). Compare with
/// torchvision.io.decode_jpeg on the same files: anchors/anchor_gpudecode.py prints "nvjpeg decode only"
/// (decode alone, no resize).
/// </summary>
internal static class NvJpegBenchmark
{
    public static void Run(string folder, int batch, int passes, int lanes, string resize, string type, bool probeOverlap, bool probeThreads, TextWriter report)
    {
        var device = CudaDriver.GetDevice(0);
        device.MakeCurrent();
        var files = Directory.GetFiles(folder).Order(StringComparer.Ordinal).ToArray();
        if (files.Length == 0)
            throw new ArgumentException($"No files in {folder}.");
        // Sized from the bytes read, not FileInfo.Length: that is a symbolic link's own length, not its target's.
        var contents = files.Select(File.ReadAllBytes).ToArray();
        long total = contents.Sum(c => (long)c.Length);
        using var staging = device.AllocatePinned(total, "benchmark JPEGs");
        var images = new EncodedImage[files.Length];
        long at = 0;
        for (int i = 0; i < files.Length; i++)
        {
            var bytes = contents[i];
            Marshal.Copy(bytes, 0, staging.Pointer + (nint)at, bytes.Length);
            images[i] = new EncodedImage(staging.Pointer + (nint)at, bytes.Length, files[i], i);
            at += bytes.Length;
        }

        var options = resize == "stretch" ? new ImageInputOptions { Width = 224, Height = 224 } : ImageInputOptions.ImageNet();
        options.ReducedDecode = false;
        options.Layout = ImageLayout.Nchw;
        var layout = ImageTensorLayout.Create(options, "input", type, [-1, 3, 224, 224]);
        if (probeOverlap || probeThreads)
        {
            NvJpegOverlapProbe.Run(device, images, layout, batch, threadsOnly: probeThreads, report);
            return;
        }

        report.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"# nvJPEG decode + resize: {device.Name}, nvJPEG {NvJpegLibrary.Version} ({NvJpegLibrary.FileName}), CUDA driver {CudaDriver.DriverVersion}"));
        report.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{files.Length} files ({total / 1048576.0:0} MiB) from {folder}, in pinned memory; batches of {batch} into a {type} NCHW tensor of 3x{layout.Height}x{layout.Width} ({resize}); {lanes} lane(s); median of {passes} passes after one warm-up pass."));
        report.WriteLine();
        report.WriteLine("| backend | images/s | min | max | engine-decoded | other nvJPEG | to the CPU | setup |");
        report.WriteLine("|---|---:|---:|---:|---:|---:|---:|---|");
        foreach (bool hardware in new[] { true, false })
        {
            var (rates, result, setup) = Measure(device, images, layout, batch, passes, lanes, hardware);
            rates.Sort();
            report.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {(hardware ? "hardware engine (where there is one)" : "hybrid (Huffman on the host's threads)")} | {rates[rates.Count / 2]:N0} | {rates[0]:N0} | {rates[^1]:N0} | {result.HardwareDecoded:N0} | {result.OtherDecoded:N0} | {result.ForCpu:N0} | {setup} |"));
            report.Flush();
        }
    }

    private sealed record Totals(int HardwareDecoded, int OtherDecoded, int ForCpu);

    private static (List<double> Rates, Totals Last, string Setup) Measure(CudaDevice device, EncodedImage[] images, ImageTensorLayout layout, int batch, int passes, int lanes, bool hardware)
    {
        var decoders = new List<(NvJpegBatchDecoder Decoder, CudaStream Stream, CudaDeviceMemory Output)>();
        try
        {
            for (int l = 0; l < lanes; l++)
                decoders.Add((new NvJpegBatchDecoder(device, new NvJpegDecoderOptions { UseHardwareDecoder = hardware }),
                    device.CreateStream(), device.Allocate((long)batch * layout.RowBytes, "benchmark batch")));
            var batches = Enumerable.Range(0, (images.Length + batch - 1) / batch)
                .Select(b => images.Skip(b * batch).Take(batch).ToArray()).ToArray();
            var rates = new List<double>();
            Totals last = new(0, 0, 0);
            for (int pass = 0; pass <= passes; pass++)
            {
                int hw = 0, other = 0, cpu = 0;
                var watch = Stopwatch.StartNew();
                Parallel.For(0, lanes, new ParallelOptions { MaxDegreeOfParallelism = lanes }, lane =>
                {
                    device.MakeCurrent();
                    var (decoder, stream, output) = decoders[lane];
                    for (int b = lane; b < batches.Length; b += lanes)
                    {
                        var result = decoder.DecodeInto(batches[b], output.Pointer, layout.RowBytes, layout, BadImagePolicy.Fail, stream.Pointer);
                        Interlocked.Add(ref hw, result.HardwareDecoded);
                        Interlocked.Add(ref other, result.OtherDecoded);
                        Interlocked.Add(ref cpu, result.ForCpu.Count);
                    }
                    stream.Synchronize();
                });
                double seconds = watch.Elapsed.TotalSeconds;
                if (pass > 0)
                    rates.Add(images.Length / seconds);
                last = new Totals(hw, other, cpu);
            }
            return (rates, last, decoders[0].Decoder.Setup);
        }
        finally
        {
            foreach (var (decoder, stream, output) in decoders)
            {
                stream.Synchronize();
                decoder.Dispose();
                output.Dispose();
                stream.Dispose();
            }
        }
    }
}
