using Microsoft.ML;
using TrtMLNet.GpuTests.Support;
using TrtMLNet.Tests.Models;
using TrtMLNet.Tests.Support;

namespace TrtMLNet.GpuTests;

/// <summary>
/// ApplyTensorRt on ONNX Runtime's CUDA provider: outputs against ONNX Runtime on the CPU through the
/// parity check users call (1e-3 relative), on small models, a CNN (ResNet-50) and a transformer
/// encoder (BERT-base: open batch and sequence length, int64 inputs); and Auto's choice on a GPU
/// machine without TensorRT.
/// </summary>
[Collection(GpuCollection.Name)]
public class CudaBackendTests
{
    private static TensorRtOptions Cuda(string model, int batch) => new()
    {
        ModelFile = model,
        Backend = TensorRtBackend.OnnxRuntimeCuda,
        BatchSize = batch,
        FallbackToCpu = false,
        AllowTf32 = false, // parity at 1e-3 needs full fp32 math; TF32 is a speed choice users make knowingly
    };

    [Fact]
    public void SmallModelsMatchTheCpu()
    {
        Gpu.Require();
        var ml = new MLContext(seed: 1);
        foreach (var (path, data) in new[] { (TestModels.MlpPath, TestData.Mlp(ml, 300)), (TestModels.MultiIoPath, TestData.MultiIo(ml, 200)), (TestModels.TinyEncoderPath, TestData.Encoder(ml, 100)) })
        {
            using var transformer = ml.Transforms.ApplyTensorRt(Cuda(path, 64)).Fit(data);
            Assert.Equal(TensorRtBackend.OnnxRuntimeCuda, transformer.Backend);
            var report = transformer.CheckParity(data, rows: 100, relativeTolerance: 1e-3, absoluteTolerance: 1e-5);
            Gpu.Note(report.ToString());
            Assert.True(report.WithinTolerance, report.ToString());
        }
    }

    [Fact]
    public void ResNet50MatchesTheCpu()
    {
        var path = Gpu.Model("resnet50.onnx");
        var ml = new MLContext(seed: 1);
        var data = ml.Data.Cache(Support.Images.Random(ml, 32, "input"));
        using var transformer = ml.Transforms.ApplyTensorRt(Cuda(path, 16)).Fit(data);
        var report = transformer.CheckParity(data, rows: 32, relativeTolerance: 1e-3, absoluteTolerance: 1e-4);
        Gpu.Note(report.ToString());
        Assert.True(report.WithinTolerance, report.ToString());
    }

    [Fact]
    public void BertBaseWithOpenBatchAndSequenceMatchesTheCpu()
    {
        var path = Gpu.Model("bert-base.onnx");
        var ml = new MLContext(seed: 1);
        var data = ml.Data.Cache(Tokens.Random(ml, 48, sequence: 128));
        using var transformer = ml.Transforms.ApplyTensorRt(Cuda(path, 16)).Fit(data);
        var report = transformer.CheckParity(data, rows: 48, relativeTolerance: 1e-3, absoluteTolerance: 1e-4);
        Gpu.Note(report.ToString());
        Assert.True(report.WithinTolerance, report.ToString());
    }

    [Fact]
    public void AutoPicksOnnxRuntimeCudaAndSaysWhyNotTensorRt()
    {
        Gpu.Require();
        Assert.SkipWhen(Native.NativeLibraries.TryProbe(Native.NativeLibraries.NvInferFileName(10), out _), "TensorRT is installed here; this test is about GPU machines without it.");
        var ml = new MLContext(seed: 1);
        var messages = new List<string>();
        ml.Log += (_, e) => { lock (messages) messages.Add(e.Message); };
        var data = TestData.Mlp(ml, 10);
        using var transformer = ml.Transforms.ApplyTensorRt(TestModels.MlpPath).Fit(data);
        Assert.Equal(TensorRtBackend.OnnxRuntimeCuda, transformer.Backend);
        var log = string.Join("\n", messages);
        Gpu.Note(log);
        Assert.Contains("[TensorRt]", log);
        Assert.Contains("[OnnxRuntimeTensorRt]", log);
        Assert.Contains("libnvinfer", log);
    }

    [Fact]
    public void WeightsAreOnTheDeviceOnceWhateverTheNumberOfLanes()
    {
        var path = Gpu.Model("resnet50.onnx");
        var cuda = Gpu.Require();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.Cache(Support.Images.Random(ml, 64, "input"));
        var atFit = new Dictionary<int, long>();
        var afterScoring = new Dictionary<int, long>();
        var laneIo = 0L;
        foreach (var lanes in new[] { 1, 4, 1, 4 }) // twice each: the first ones also load the CUDA libraries' code
        {
            var before = Gpu.FreeBytes(cuda);
            var options = Cuda(path, 32);
            options.Lanes = lanes;
            // The warm-up would take ONNX Runtime's activations for every lane's execution at fit (about
            // 1.1 GiB a lane here): off, fitting holds what the memory model places, which is what this checks.
            options.WarmUpLanes = false;
            using var transformer = ml.Transforms.ApplyTensorRt(options).Fit(data);
            atFit[lanes] = before - Gpu.FreeBytes(cuda);
            laneIo = transformer.GetMemoryReport().LaneIoBytes.FirstOrDefault();
            TestData.Column<float>(transformer.Transform(data), "logits");
            afterScoring[lanes] = before - Gpu.FreeBytes(cuda);
        }
        var weights = new FileInfo(path).Length;
        Gpu.Note($"ResNet-50 ({Gpu.MiB(weights)} of weights), lanes of {Gpu.MiB(laneIo)} IO each: at fit 1 lane takes {Gpu.MiB(atFit[1])}, 4 lanes {Gpu.MiB(atFit[4])}; " +
            $"after scoring 1 lane {Gpu.MiB(afterScoring[1])}, 4 lanes {Gpu.MiB(afterScoring[4])} (ONNX Runtime's activations grow with the runs in flight)");
        // Three more lanes add three more IO buffers, not three more copies of the weights. Each lane's thread
        // also gets ONNX Runtime's per-thread cuDNN and cuBLAS handles with their workspaces (about 44 MiB
        // each on an H200 with cuDNN's max workspace): the lane's own memory, well under a copy of the weights.
        var extraPerLane = (atFit[4] - atFit[1] - 3 * laneIo) / 3;
        Assert.True(extraPerLane < weights / 2,
            $"4 lanes took {Gpu.MiB(atFit[4] - atFit[1])} more than 1 at fit, {Gpu.MiB(extraPerLane)} per added lane beyond its IO buffers.");
    }
}
