using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using SkiaSharp;
using TrtMLNet.Images;

namespace TrtMLNet.Benchmarks;

/// <summary>
/// Images/s of turning a folder of JPEGs into float tensors: TrtMLNet's CPU image path (ImageBatchDecoder:
/// files read and decoded on every core, batch by batch, into one native buffer, as the batch fill will
/// do) against ML.NET's LoadImages -> ResizeImages -> ExtractPixels read through a cursor. Contenders run
/// alternately pass after pass; the median pass is reported, with the CPU time each spends per image.
/// </summary>
internal static class ImageDecodeBenchmark
{
    private const int Batch = 128;

    public static void Run(string? folder, int count, int width, int height, int passes, TextWriter report)
    {
        folder ??= Path.Combine(Path.GetTempPath(), $"trtmlnet-jpegs-{width}x{height}");
        var files = EnsureJpegs(folder, count, width, height, report);
        report.WriteLine($"# Image decoding: TrtMLNet's CPU path vs ML.NET's image transforms");
        report.WriteLine();
        report.WriteLine($"Machine: {Environment.ProcessorCount} logical cores used, {RuntimeInformation.OSDescription}, .NET {Environment.Version}. " +
                         $"{files.Count} JPEGs of {width}x{height} (synthetic: smooth random content plus noise, quality 90) in {folder}; batches of {Batch}; median of {passes} passes.");
        report.WriteLine();
        report.WriteLine("| contender | output | images/s (median) | min | max | vs ML.NET | CPU ms/image (median) |");
        report.WriteLine("|---|---|---:|---:|---:|---:|---:|");

        var ml = new MLContext(seed: 1);
        var paths = ml.Data.LoadFromEnumerable(files.Select(f => new ImagePathRow { Path = f }).ToList());
        var mlnet = ml.Transforms.LoadImages("image", null, nameof(ImagePathRow.Path))
            .Append(ml.Transforms.ResizeImages("image", 224, 224, resizing: ImageResizingEstimator.ResizingKind.Fill))
            .Append(ml.Transforms.ExtractPixels("pixels", "image"))
            .Fit(paths).Transform(paths);

        var stretch = new ImageInputOptions { Width = 224, Height = 224 };
        var contenders = new List<(string Name, string Output, Func<long> Pass)>
        {
            ("ML.NET LoadImages -> ResizeImages(224, Fill) -> ExtractPixels, 1 cursor", "224x224 float CHW 0..255", () => DrainPixels(mlnet)),
            ("TrtMLNet CPU, stretch 224", "224x224 float NCHW 0..1", Decoder(stretch, files)),
            ("TrtMLNet CPU, stretch 224, no ReducedDecode", "224x224 float NCHW 0..1", Decoder(Copy(stretch, reduced: false), files)),
            ("TrtMLNet CPU, ImageNet: resize 256 + crop 224, normalised", "224x224 float NCHW", Decoder(ImageInputOptions.ImageNet(), files)),
            ("TrtMLNet CPU, ImageNet, no ReducedDecode", "224x224 float NCHW", Decoder(Copy(ImageInputOptions.ImageNet(), reduced: false), files)),
        };

        foreach (var contender in contenders)
            contender.Pass(); // warm-up: JIT, file cache, thread buffers
        // Wall clock gives images/s; the process's CPU time per image (all threads) is the work each
        // contender does, which other load on the machine disturbs far less.
        var samples = contenders.Select(_ => new List<double>()).ToList();
        var cpu = contenders.Select(_ => new List<double>()).ToList();
        var process = Process.GetCurrentProcess();
        for (int p = 0; p < passes; p++)
        {
            for (int c = 0; c < contenders.Count; c++)
            {
                process.Refresh();
                var cpuBefore = process.TotalProcessorTime;
                var watch = Stopwatch.StartNew();
                long images = contenders[c].Pass();
                samples[c].Add(images / watch.Elapsed.TotalSeconds);
                process.Refresh();
                cpu[c].Add((process.TotalProcessorTime - cpuBefore).TotalMilliseconds / images);
            }
        }
        double baseline = Median(samples[0]);
        for (int c = 0; c < contenders.Count; c++)
            report.WriteLine($"| {contenders[c].Name} | {contenders[c].Output} | {Median(samples[c]):F0} | {samples[c].Min():F0} | {samples[c].Max():F0} | {Median(samples[c]) / baseline:F2}x | {Median(cpu[c]):F2} |");
        report.WriteLine();
        double decodeOnly = FullDecodeCpuMilliseconds(files);
        report.WriteLine($"SkiaSharp's full JPEG decode alone (one thread, files in memory): {decodeOnly:F2} CPU ms/image; both contenders pay it for every image " +
                         $"(the CPU path less where ReducedDecode applies). With all {Environment.ProcessorCount} cores to itself, the CPU path's ceiling over ML.NET's " +
                         $"single cursor is about {Environment.ProcessorCount} x {Median(cpu[0]):F2} / {Median(cpu[1]):F2} = {Environment.ProcessorCount * Median(cpu[0]) / Median(cpu[1]):F1}x (stretch 224).");
    }

    private static unsafe double FullDecodeCpuMilliseconds(IReadOnlyList<string> files)
    {
        var bytes = files.Take(Batch).Select(File.ReadAllBytes).ToList();
        byte[] pixels = [];
        var process = Process.GetCurrentProcess();
        double best = double.MaxValue;
        for (int pass = 0; pass < 3; pass++)
        {
            process.Refresh();
            var before = process.TotalProcessorTime;
            foreach (var jpeg in bytes)
            {
                using var codec = SKCodec.Create(new MemoryStream(jpeg));
                var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
                if (pixels.Length < info.BytesSize)
                    pixels = new byte[info.BytesSize];
                fixed (byte* p = pixels)
                    codec.GetPixels(info, (IntPtr)p);
            }
            process.Refresh();
            best = Math.Min(best, (process.TotalProcessorTime - before).TotalMilliseconds / bytes.Count);
        }
        return best;
    }

    private static ImageInputOptions Copy(ImageInputOptions options, bool reduced)
    {
        options.ReducedDecode = reduced;
        return options;
    }

    /// <summary>A pass of the CPU path: every file, in batches, into one native (pinned-like) staging buffer.</summary>
    private static unsafe Func<long> Decoder(ImageInputOptions options, IReadOnlyList<string> files)
    {
        var layout = ImageTensorLayout.Create(options, "image", "float", [-1, 3, 224, 224]);
        var decoder = new ImageBatchDecoder(layout, "Path", null, BadImagePolicy.Fail);
        long bytes = (long)Batch * layout.RowBytes;
        var staging = (IntPtr)NativeMemory.AlignedAlloc((nuint)bytes, 256); // held for the process, like a staging pool's
        return () =>
        {
            for (int start = 0; start < files.Count; start += Batch)
            {
                var items = new List<ImageBatchItem>(Batch);
                for (int i = start; i < Math.Min(start + Batch, files.Count); i++)
                    items.Add(ImageBatchItem.FromPath(i, files[i], (long)(i - start) * layout.RowBytes));
                decoder.Decode(items, staging, bytes);
            }
            return files.Count;
        };
    }

    private static long DrainPixels(IDataView data)
    {
        var column = data.Schema["pixels"];
        using var cursor = data.GetRowCursor([column]);
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        VBuffer<float> pixels = default;
        long rows = 0;
        while (cursor.MoveNext())
        {
            getter(ref pixels);
            rows++;
        }
        return rows;
    }

    /// <summary>The folder's JPEGs, drawing the missing ones as ../shared/gpu/anchors/make_jpegs.py does: a 16x12 random image upscaled (cubic) to the size, plus noise of +-12, quality 90.</summary>
    private static List<string> EnsureJpegs(string folder, int count, int width, int height, TextWriter report)
    {
        Directory.CreateDirectory(folder);
        var files = Enumerable.Range(0, count).Select(i => Path.Combine(folder, $"img_{i:D5}.jpg")).ToList();
        var missing = files.Select((f, i) => (f, i)).Where(x => !File.Exists(x.f)).ToList();
        if (missing.Count > 0)
        {
            report.WriteLine($"Drawing {missing.Count} JPEGs into {folder}...");
            Parallel.ForEach(missing, x => File.WriteAllBytes(x.f, DrawJpeg(x.i, width, height)));
        }
        return files;
    }

    private static byte[] DrawJpeg(int seed, int width, int height)
    {
        var random = new Random(seed);
        using var small = new SKBitmap(new SKImageInfo(16, 12, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (int y = 0; y < 12; y++)
            for (int x = 0; x < 16; x++)
                small.SetPixel(x, y, new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)));
        using var large = small.Resize(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque), SKFilterQuality.High);
        var pixels = large.Bytes;
        for (int i = 0; i < pixels.Length; i++)
        {
            if (i % 4 != 3)
                pixels[i] = (byte)Math.Clamp(pixels[i] + random.Next(-12, 12), 0, 255);
        }
        Marshal.Copy(pixels, 0, large.GetPixels(), pixels.Length);
        using var data = large.Encode(SKEncodedImageFormat.Jpeg, 90);
        return data.ToArray();
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    private sealed class ImagePathRow
    {
        public string Path { get; set; } = "";
    }
}
