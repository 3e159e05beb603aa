using Microsoft.ML;
using TrtMLNet.Native.Cuda;
using TrtMLNet.Tests.Models;
using TrtMLNet.Tests.Support;

namespace TrtMLNet.Tests.Backends;

/// <summary>What Auto tells a user on a machine without a GPU or TensorRT, and how saved GPU models load there.</summary>
public class BackendSelectionTests
{
    [Fact]
    public void AutoListsEverySkippedBackendWithItsReasonInOneLineEach()
    {
        Assert.SkipWhen(CudaDriver.IsAvailable(out _), "This machine has a GPU; the test is about machines without one.");
        var ml = new MLContext(seed: 1);
        using var transformer = ml.Transforms.ApplyTensorRt(TestModels.MlpPath).Fit(TestData.Mlp(ml, 3));
        Assert.Equal(TensorRtBackend.OnnxRuntimeCpu, transformer.Backend);
        Assert.Equal([TensorRtBackend.TensorRt, TensorRtBackend.OnnxRuntimeTensorRt, TensorRtBackend.OnnxRuntimeCuda],
            transformer.SkippedBackends.Select(s => s.Backend));
        Assert.All(transformer.SkippedBackends, s => Assert.DoesNotContain("strace", s.Reason));
        Assert.Contains(transformer.SkippedBackends, s => s.Reason.Contains("GPU", StringComparison.Ordinal));
    }

    [Fact]
    public void ASavedGpuModelLoadsOnAMachineWithoutAGpu()
    {
        Assert.SkipWhen(CudaDriver.IsAvailable(out _), "This machine has a GPU; the test is about machines without one.");
        var ml = new MLContext(seed: 1);
        var data = TestData.Mlp(ml, 5);
        var path = Path.Combine(TestModels.Folder, "saved-for-cuda.zip");
        // Saved as it would be on a GPU machine: the backend named outright.
        using (var transformer = ml.Transforms.ApplyTensorRt(new TensorRtOptions { ModelFile = TestModels.MlpPath, Backend = TensorRtBackend.OnnxRuntimeCuda, FallbackToCpu = true }).Fit(data))
        {
            transformer.Options.FallbackToCpu = null; // as if the GPU machine had not needed it
            ml.Model.Save(transformer, data.Schema, path);
        }
        var loaded = Assert.IsType<TensorRtTransformer>(ml.Model.LoadWithTensorRt(path, out _));
        Assert.Equal(TensorRtBackend.OnnxRuntimeCpu, loaded.Backend);
        Assert.Contains(loaded.SkippedBackends, s => s.Backend == TensorRtBackend.OnnxRuntimeCuda);
        loaded.Dispose();
    }
}
