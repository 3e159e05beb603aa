using Microsoft.ML;
using Microsoft.ML.Data;
using TrtMLNet.GpuTests.Support;

namespace TrtMLNet.GpuTests;

/// <summary>
/// The memory model measured against the driver: N = 8 contexts and K = 2 lanes of an engine that holds
/// weights, persistent memory per context and caller-supplied scratch. With shared scratch the device
/// memory taken must be within 10% of the report's shared total (far below its naive total); without,
/// within 10% of the naive total. Device memory returns to where it was after dispose.
/// </summary>
[Collection(GpuCollection.Name)]
public class MemoryModelTests
{
    private const int Width = 1024;
    private const long Weights = 512L << 20, Persistent = 64L << 20, Scratch = 256L << 20;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void MeasuredMemoryMatchesTheReport(bool shareScratch)
    {
        var cuda = Gpu.Require();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.Cache(ml.Data.LoadFromEnumerable(Enumerable.Range(0, 1000).Select(i => new Row { x = Enumerable.Repeat((float)i, Width).ToArray() }).ToList()));
        WarmUp(cuda, data);

        var before = Gpu.FreeBytes(cuda);
        var engine = new SyntheticCudaEngine(cuda, Width, Weights, Persistent, Scratch);
        var options = new TensorRtOptions { BatchSize = 128, Lanes = 2, ContextsPerEngine = 8, ShareScratch = shareScratch };
        var transformer = TestEnginesOnGpu.Fit(engine, data, options);
        var y = Tests.Support.TestData.Column<float>(transformer.Transform(data), "y");
        Assert.Equal(1000, y.Count);
        Assert.Equal(8f, y[7][0]);

        var report = transformer.GetMemoryReport();
        var measured = before - Gpu.FreeBytes(cuda);
        var expected = shareScratch ? report.SharedTotalBytes : report.NaiveTotalBytes;
        Gpu.Note(
            $"share scratch {shareScratch}: measured {Gpu.MiB(measured)}, report shared total {Gpu.MiB(report.SharedTotalBytes)}, naive total {Gpu.MiB(report.NaiveTotalBytes)}, pinned host {Gpu.MiB(report.PinnedHostBytes)}\n{report}");
        Assert.Equal(8, report.Engines.Single(e => e.Backend.StartsWith("synthetic")).Contexts.Count);
        Assert.True(report.TotalsComplete);
        Assert.InRange(measured, expected * 0.9, expected * 1.1);
        if (shareScratch)
            Assert.True(report.NaiveTotalBytes - report.SharedTotalBytes >= 6 * Scratch, "Sharing should save (contexts - slabs) x scratch.");

        transformer.Dispose();
        engine.Dispose();
        var after = Gpu.FreeBytes(cuda);
        Assert.InRange(before - after, -(8L << 20), 8L << 20);
    }

    /// <summary>The first engine on a device also loads the CUDA modules and context bits every later one shares.</summary>
    private static void WarmUp(Native.Cuda.CudaDevice cuda, IDataView data)
    {
        using var engine = new SyntheticCudaEngine(cuda, Width, 1 << 20, 1 << 20, 1 << 20);
        using var transformer = TestEnginesOnGpu.Fit(engine, data, new TensorRtOptions { BatchSize = 128 });
        Tests.Support.TestData.Column<float>(transformer.Transform(data), "y");
    }

    private sealed class Row
    {
        [VectorType(Width)] public float[] x { get; set; } = [];
    }
}
