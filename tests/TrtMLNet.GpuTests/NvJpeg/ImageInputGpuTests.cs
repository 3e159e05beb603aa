using Microsoft.ML;
using Microsoft.ML.Data;
using TrtMLNet.GpuTests.Support;
using TrtMLNet.Tests.Images;

namespace TrtMLNet.GpuTests.NvJpeg;

/// <summary>
/// Image inputs through ApplyTensorRt on the GPU, end to end: ResNet-50 with torchvision's ImageNet
/// preprocessing, its images decoded by nvJPEG on the lanes' streams against the same images decoded on
/// the CPU. JPEG decoders differ by a few levels (IDCT and chroma upsampling), so the logits are judged
/// by cosine similarity, not bit for bit. A PNG in the folder falls back to the CPU decoder, a truncated
/// JPEG is skipped and reported at the same row either way, and the device memory comes back on Dispose.
/// </summary>
[Collection(GpuCollection.Name)]
public sealed class ImageInputGpuTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("trtmlnet-gpu-images-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private sealed class PathRow
    {
        public string Path { get; set; } = "";
    }

    [Fact]
    public void NvJpegDecodingScoresAsTheCpuPathDoesAndFallsBackForPngs()
    {
        var model = Gpu.Model("resnet50.onnx");
        var device = NvJpegGpu.Require();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Files(count: 40));

        long baseline = 0;
        for (var round = 0; round < 2; round++)
        {
            // Round 0 loads the kernels' and nvJPEG's code into the context, which stays for the process.
            if (round == 1)
                baseline = Gpu.FreeBytes(device);
            using var gpu = Fit(ml, data, model, ImageDecoderKind.Gpu);
            using var cpu = Fit(ml, data, model, ImageDecoderKind.Cpu);
            var onGpu = Logits(gpu.Transform(data));
            var onCpu = Logits(cpu.Transform(data));

            var skippedGpu = gpu.SkippedImages;
            var skippedCpu = cpu.SkippedImages;
            Assert.Equal(skippedCpu.Select(s => s.Row), skippedGpu.Select(s => s.Row));
            Assert.Equal([TruncatedRow], skippedGpu.Select(s => s.Row));

            double minCosine = 1, pngCosine = 0;
            for (var r = 0; r < onCpu.Count; r++)
            {
                if (r == TruncatedRow)
                    continue;
                var cosine = Tests.Onnx.OrtCpu.MinRowCosine(onCpu[r], onGpu[r], onCpu[r].Length);
                minCosine = Math.Min(minCosine, cosine);
                if (r == PngRow)
                    pngCosine = cosine;
            }
            if (round == 1)
                Gpu.Note($"Image input, ResNet-50 FP32 on {gpu.BackendDescription}, ImageNet preprocessing, 40 photo-like 500x375 JPEGs + 1 PNG: " +
                    $"nvJPEG against the CPU path, lowest row cosine {minCosine:0.######}; the PNG's row (CPU decode both ways) {pngCosine:0.########}");
            Assert.True(minCosine > 0.999, $"lowest cosine between GPU- and CPU-decoded rows {minCosine}");
            Assert.True(pngCosine > 0.99999, $"the PNG decodes on the CPU both ways, yet its row differs: cosine {pngCosine}");
        }
        var after = Gpu.FreeBytes(device);
        Gpu.Note($"Image input: free device memory {Gpu.MiB(baseline)} before a round of two transformers, {Gpu.MiB(after)} after their Dispose");
        Assert.True(baseline - after <= 16L << 20, $"{Gpu.MiB(baseline - after)} of device memory not returned");
    }

    /// <summary>
    /// The parity check's reference runs on the CPU, so it must decode there: it used to take the GPU decoder
    /// along and fail ("asks for GPU decoding, but the model runs on the CPU"). Plain FP32 on nvJPEG's pixels
    /// is judged by norm and direction, as the inputs differ by the JPEG decoders' few levels.
    /// </summary>
    [Fact]
    public void AParityCheckOfNvJpegDecodedImagesComparesWithTheCpuDecodedReference()
    {
        var model = Gpu.Model("resnet50.onnx");
        NvJpegGpu.Require();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Files(count: 16));
        using var gpu = Fit(ml, data, model, ImageDecoderKind.Gpu, allowTf32: false);

        var report = gpu.CheckParity(data, rows: 16);

        Gpu.Note(report.ToString());
        Assert.Contains("images decoded by nvJPEG", report.Precision);
        Assert.Null(report.Tolerance.Relative);
        Assert.True(report.WithinTolerance, report.ToString());
    }

    private const int PngRow = 7;
    private const int TruncatedRow = 23;

    private List<PathRow> Files(int count)
    {
        var rows = new List<PathRow>();
        for (var i = 0; i < count; i++)
        {
            var photo = NvJpegGpu.Photo(500, 375, 900 + i);
            var bytes = i == PngRow ? TestImages.Png(photo) : TestImages.Jpeg(photo, 90);
            if (i == TruncatedRow)
                bytes = bytes[..(bytes.Length * 2 / 3)];
            var path = Path.Combine(_folder, $"img-{i:D3}.{(i == PngRow ? "png" : "jpg")}");
            File.WriteAllBytes(path, bytes);
            rows.Add(new PathRow { Path = path });
        }
        return rows;
    }

    private static TensorRtTransformer Fit(MLContext ml, IDataView data, string model, ImageDecoderKind decoder, bool allowTf32 = true)
    {
        var image = ImageInputOptions.ImageNet(nameof(PathRow.Path));
        image.Decoder = decoder;
        image.OnBadImage = BadImagePolicy.Skip;
        image.ReducedDecode = false; // nvJPEG decodes at full size: compare with the CPU's full decode
        return ml.Transforms.ApplyTensorRt(new TensorRtOptions
        {
            ModelFile = model,
            Backend = TensorRtBackend.OnnxRuntimeCuda,
            FallbackToCpu = false,
            BatchSize = 16,
            AllowTf32 = allowTf32,
            ImageInputs = new Dictionary<string, ImageInputOptions> { ["input"] = image },
        }).Fit(data);
    }

    private static List<float[]> Logits(IDataView scored) =>
        scored.GetColumn<VBuffer<float>>("logits").Select(v => v.DenseValues().ToArray()).ToList();
}
