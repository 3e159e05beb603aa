using Microsoft.ML;
using Microsoft.ML.Data;
using TrtMLNet.GpuTests.Support;
using TrtMLNet.Native.Cuda;
using TrtMLNet.Tests.Models;
using TrtMLNet.Tests.Support;

namespace TrtMLNet.GpuTests;

/// <summary>Bad input on the GPU path: a device that does not exist, a batch that cannot fit, disposal while reading.</summary>
[Collection(GpuCollection.Name)]
public class GpuBadInputTests
{
    [Fact]
    public void InvalidDeviceIdIsAClearError()
    {
        Gpu.Require();
        var ml = new MLContext(seed: 1);
        var data = TestData.Mlp(ml, 3);
        var options = new TensorRtOptions { ModelFile = TestModels.MlpPath, Backend = TensorRtBackend.OnnxRuntimeCuda, DeviceId = CudaDriver.DeviceCount + 5 };
        var e = Assert.Throws<InvalidOperationException>(() => ml.Transforms.ApplyTensorRt(options).Fit(data));
        Assert.Contains($"GPU {CudaDriver.DeviceCount + 5} does not exist", e.Message);
    }

    [Fact]
    public void BatchTooLargeForTheDeviceNamesBatchAndMemoryAndASmallerOneStillWorks()
    {
        var cuda = Gpu.Require();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.Cache(TestData.Mlp(ml, 100));
        var small = new TensorRtOptions { ModelFile = TestModels.MlpPath, Backend = TensorRtBackend.OnnxRuntimeCuda, BatchSize = 32 };
        using (var warm = ml.Transforms.ApplyTensorRt(small).Fit(data))
            TestData.Column<float>(warm.Transform(data), "scores");
        var before = Gpu.FreeBytes(cuda);
        // 20 floats in and 6 out per row: 10^9 rows need about 100 GB of IO buffers per lane.
        var huge = new TensorRtOptions { ModelFile = TestModels.MlpPath, Backend = TensorRtBackend.OnnxRuntimeCuda, BatchSize = 1_000_000_000 };
        var e = Assert.Throws<CudaException>(() => ml.Transforms.ApplyTensorRt(huge).Fit(data));
        Assert.Equal(CudaError.OutOfMemory, e.Error);
        Assert.Contains("1000000000 rows", e.Message);
        Assert.Contains("GiB", e.Message);
        Gpu.Note(e.Message);

        Assert.True(before - Gpu.FreeBytes(cuda) <= 16L << 20, "The failed fit kept device memory.");
        using (var model = ml.Transforms.ApplyTensorRt(small).Fit(data))
            Assert.Equal(100, TestData.Column<float>(model.Transform(data), "scores").Count);
        // One-sided: an allocation failure can make the driver evict code it loaded earlier, which only frees more.
        Assert.True(before - Gpu.FreeBytes(cuda) <= 16L << 20, "Device memory was not given back after the smaller batch.");
    }

    [Fact]
    public void DisposingWhileACursorIsOpenFinishesTheCursorAndFreesTheDevice()
    {
        var cuda = Gpu.Require();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.Cache(TestData.Mlp(ml, 5000));
        var options = new TensorRtOptions { ModelFile = TestModels.MlpPath, Backend = TensorRtBackend.OnnxRuntimeCuda, BatchSize = 100 };
        using (var warm = ml.Transforms.ApplyTensorRt(options).Fit(data))
            TestData.Column<float>(warm.Transform(data), "scores");
        var before = Gpu.FreeBytes(cuda);
        var model = ml.Transforms.ApplyTensorRt(options).Fit(data);
        var scored = model.Transform(data);
        var cursor = scored.GetRowCursor(scored.Schema);
        var getter = cursor.GetGetter<VBuffer<float>>(scored.Schema["scores"]);
        VBuffer<float> value = default;
        Assert.True(cursor.MoveNext());
        model.Dispose();
        var rows = 1;
        while (cursor.MoveNext())
        {
            getter(ref value);
            rows++;
        }
        Assert.Equal(5000, rows);
        cursor.Dispose();
        Assert.Throws<ObjectDisposedException>(() => scored.GetRowCursor(scored.Schema).MoveNext());
        Assert.True(before - Gpu.FreeBytes(cuda) <= 16L << 20, "Device memory was not given back once the cursor finished.");
    }
}
