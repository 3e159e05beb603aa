using Microsoft.ML;
using Microsoft.ML.Data;
using TrtMLNet.GpuTests.Support;

namespace TrtMLNet.GpuTests;

/// <summary>
/// Reduced precision on ONNX Runtime CUDA, judged against FP32 on the CPU as users judge it
/// (CheckParity): FP16 keeps every output's relative L2 error under 2e-2 and every row's cosine
/// similarity above 0.999; a model exported in float16 is fed from float columns; CUDA graphs change
/// nothing in the outputs.
/// </summary>
[Collection(GpuCollection.Name)]
public class PrecisionTests
{
    private static TensorRtOptions Cuda(string model, int batch, TensorRtPrecision precision) => new()
    {
        ModelFile = model,
        Backend = TensorRtBackend.OnnxRuntimeCuda,
        BatchSize = batch,
        FallbackToCpu = false,
        Precision = precision,
    };

    [Theory]
    [InlineData(TensorRtPrecision.Fp16)]
    [InlineData(TensorRtPrecision.Bf16)]
    public void ResNet50AtReducedPrecisionMatchesFp32OnTheCpu(TensorRtPrecision precision)
    {
        var path = Gpu.Model("resnet50.onnx");
        var ml = new MLContext(seed: 1);
        var data = ml.Data.Cache(Support.Images.Random(ml, 32, "input"));
        using var transformer = ml.Transforms.ApplyTensorRt(Cuda(path, 16, precision)).Fit(data);
        var report = transformer.CheckParity(data, rows: 32);
        Gpu.Note(report.ToString());
        Assert.Contains(precision == TensorRtPrecision.Fp16 ? "FP16" : "BF16", report.Precision);
        Assert.True(report.WithinTolerance, report.ToString());
    }

    [Theory]
    [InlineData(TensorRtPrecision.Fp16)]
    [InlineData(TensorRtPrecision.Bf16)]
    public void BertBaseAtReducedPrecisionMatchesFp32OnTheCpu(TensorRtPrecision precision)
    {
        var path = Gpu.Model("bert-base.onnx");
        var ml = new MLContext(seed: 1);
        var data = ml.Data.Cache(Tokens.Random(ml, 48, sequence: 128));
        using var transformer = ml.Transforms.ApplyTensorRt(Cuda(path, 16, precision)).Fit(data);
        var report = transformer.CheckParity(data, rows: 48);
        Gpu.Note(report.ToString());
        Assert.True(report.WithinTolerance, report.ToString());
    }

    [Fact]
    public void BertWithItsAttentionFusedAtFp16MatchesTheUnfusedModelInFp32OnTheCpu()
    {
        var path = Gpu.Model("bert-base-eager.onnx");
        var ml = new MLContext(seed: 1);
        var messages = new List<string>();
        ml.Log += (_, e) => { lock (messages) messages.Add(e.Message); };
        var data = ml.Data.Cache(Tokens.Random(ml, 48, sequence: 128));
        var options = Cuda(path, 16, TensorRtPrecision.Fp16);
        options.FuseTransformerOps = true;
        using var transformer = ml.Transforms.ApplyTensorRt(options).Fit(data);
        var report = transformer.CheckParity(data, rows: 48);
        Gpu.Note(report.ToString());

        Assert.Contains(messages, m => m.Contains("12 attention blocks fused", StringComparison.Ordinal) && m.Contains("24 residual adds", StringComparison.Ordinal));
        Assert.True(report.WithinTolerance, report.ToString());
    }

    [Fact]
    public void AModelExportedInFloat16IsFedFromFloatColumnsAndMatchesFp32()
    {
        var half = Gpu.Model("resnet50-fp16.onnx");
        var full = Gpu.Model("resnet50.onnx");
        var ml = new MLContext(seed: 1);
        var data = ml.Data.Cache(Support.Images.Random(ml, 24, "input"));
        using var fp16 = ml.Transforms.ApplyTensorRt(Cuda(half, 8, TensorRtPrecision.Fp32)).Fit(data);
        var cpuOptions = Cuda(full, 8, TensorRtPrecision.Fp32);
        cpuOptions.Backend = TensorRtBackend.OnnxRuntimeCpu;
        using var fp32 = ml.Transforms.ApplyTensorRt(cpuOptions).Fit(data);

        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, 1000), fp16.GetOutputSchema(data.Schema)["logits"].Type);
        var (relativeL2, minCosine) = Compare(Logits(fp32.Transform(data)), Logits(fp16.Transform(data)));
        Gpu.Note($"ResNet-50 exported in float16 on {fp16.BackendDescription} against the float32 export on the CPU: relative L2 error {relativeL2:g3}, lowest row cosine {minCosine:0.######}");
        Assert.True(relativeL2 < 2e-2 && minCosine > 0.999, $"relative L2 {relativeL2}, lowest cosine {minCosine}");
    }

    [Fact]
    public void CudaGraphsGiveTheSameOutputsAsPlainRuns()
    {
        var path = Gpu.Model("resnet50.onnx");
        var ml = new MLContext(seed: 1);
        var data = ml.Data.Cache(Support.Images.Random(ml, 40, "input")); // two full batches of 16 (captured) and one of 8 (not)
        var plainOptions = Cuda(path, 16, TensorRtPrecision.Fp16);
        var graphOptions = Cuda(path, 16, TensorRtPrecision.Fp16);
        graphOptions.CudaGraphs = true;
        var messages = new List<string>();
        ml.Log += (_, e) => { lock (messages) messages.Add(e.Message); };
        using var plain = ml.Transforms.ApplyTensorRt(plainOptions).Fit(data);
        using var graphs = ml.Transforms.ApplyTensorRt(graphOptions).Fit(data);

        var expected = Logits(plain.Transform(data));
        var first = Logits(graphs.Transform(data));
        var second = Logits(graphs.Transform(data)); // replays the captured graphs
        var (relativeL2, minCosine) = Compare(expected, second);
        Gpu.Note($"CUDA graphs on and off, ResNet-50 FP16, 40 rows in batches of 16: relative L2 {relativeL2:g3}, lowest cosine {minCosine:0.########}; " +
            $"{(messages.Any(m => m.Contains("without CUDA graphs", StringComparison.Ordinal)) ? "ONNX Runtime refused to capture" : "captured")}");
        Assert.Equal(first.Count, second.Count);
        Assert.True(relativeL2 < 1e-6, $"graphs changed the outputs: relative L2 {relativeL2}");
    }

    [Fact]
    public void BatchBucketsRunShortBatchesOnSessionsTunedForTheirSizeWithTheSameOutputs()
    {
        var path = Gpu.Model("resnet50.onnx");
        var ml = new MLContext(seed: 1);
        var data = ml.Data.Cache(Support.Images.Random(ml, 21, "input")); // a full batch of 16, then 5 rows run as 8
        var paddedOptions = Cuda(path, 16, TensorRtPrecision.Fp16);
        var bucketOptions = Cuda(path, 16, TensorRtPrecision.Fp16);
        bucketOptions.BatchBuckets = [4, 8];
        bucketOptions.CudaGraphs = true;
        var messages = new List<string>();
        ml.Log += (_, e) => { lock (messages) messages.Add(e.Message); };
        using var padded = ml.Transforms.ApplyTensorRt(paddedOptions).Fit(data);
        using var buckets = ml.Transforms.ApplyTensorRt(bucketOptions).Fit(data);

        var expected = Logits(padded.Transform(data));
        var first = Logits(buckets.Transform(data));
        var second = Logits(buckets.Transform(data)); // replays the graphs captured for 16 and for 8
        var (relativeL2, minCosine) = Compare(expected, second);
        var weights = buckets.GetMemoryReport().Engines[0].WeightsMeasuredBytes;
        Gpu.Note($"BatchBuckets 4, 8 (and 16), ResNet-50 FP16 with CUDA graphs, 21 rows: against padding to 16, relative L2 {relativeL2:g3}, " +
            $"lowest cosine {minCosine:0.########}; weights {weights} for 3 sessions against {padded.GetMemoryReport().Engines[0].WeightsMeasuredBytes} for 1");
        Assert.Contains(messages, m => m.Contains("tuned for batches of 4, 8, 16", StringComparison.Ordinal));
        Assert.Equal(21, first.Count);
        Assert.True(relativeL2 < 1e-2 && minCosine > 0.9999, $"buckets changed the outputs: relative L2 {relativeL2}, lowest cosine {minCosine}");
        Assert.True(Compare(first, second).RelativeL2 < 1e-6, "a replayed graph gave other outputs than its capture run");
    }

    private static List<float[]> Logits(IDataView scored) =>
        scored.GetColumn<VBuffer<float>>("logits").Select(v => v.DenseValues().ToArray()).ToList();

    private static (double RelativeL2, double MinCosine) Compare(List<float[]> expected, List<float[]> actual)
    {
        float[] e = [.. expected.SelectMany(r => r)], a = [.. actual.SelectMany(r => r)];
        return (Tests.Onnx.OrtCpu.RelativeError(e, a), Tests.Onnx.OrtCpu.MinRowCosine(e, a, expected[0].Length));
    }
}
