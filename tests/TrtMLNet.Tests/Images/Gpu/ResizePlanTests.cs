using System.Runtime.InteropServices;
using TrtMLNet.Images;
using TrtMLNet.Images.Gpu;

namespace TrtMLNet.Tests.Images.Gpu;

/// <summary>What the host uploads for the resize kernels: jobs, then tables, in one buffer, as resize_kernels.cu reads them.</summary>
public class ResizePlanTests
{
    [Fact]
    public void JobsComeFirstThenEachTableAsFirstCountWeights()
    {
        var h = ResampleTaps.Compute(50, 20, 0, 20);
        var v = ResampleTaps.Compute(40, 30, 2, 10);
        var plan = new ResizePlan(20, 10);
        plan.Add(source: 0x1000, sourcePitch: 150, sourceWidth: 50, sourceHeight: 40, h, v, outputOffset: 7 * 4096);

        var bytes = new byte[plan.ByteCount];
        plan.Write(bytes, intermediateBase: 0x20000);

        var job = MemoryMarshal.Read<ResizeJob>(bytes);
        Assert.Equal(0x1000, job.Source);
        Assert.Equal(0x20000, job.Intermediate);
        Assert.Equal(150, job.SourcePitch);
        Assert.Equal(7 * 4096, job.OutputOffset);
        var (start, end) = v.SourceRange();
        Assert.Equal(start, job.RowStart);
        Assert.Equal(end - start, job.RowCount);
        Assert.Equal(ResizeJob.Size, plan.TablesOffset);

        var tables = MemoryMarshal.Cast<byte, int>(bytes.AsSpan((int)plan.TablesOffset));
        Assert.Equal(h.First, tables.Slice(job.HorizontalTaps, 20).ToArray());
        Assert.Equal(h.Count, tables.Slice(job.HorizontalTaps + 20, 20).ToArray());
        Assert.Equal(h.FixedWeights, tables.Slice(job.HorizontalTaps + 40, 20 * h.MaxTaps).ToArray());
        Assert.Equal(h.MaxTaps, job.HorizontalMaxTaps);
        Assert.Equal(v.First, tables.Slice(job.VerticalTaps, 10).ToArray());
        Assert.Equal(v.Count, tables.Slice(job.VerticalTaps + 10, 10).ToArray());
        Assert.Equal(v.FixedWeights, tables.Slice(job.VerticalTaps + 20, 10 * v.MaxTaps).ToArray());
        Assert.Equal(v.MaxTaps, job.VerticalMaxTaps);
    }

    [Fact]
    public void IntermediatesAreAlignedAndBackToBack()
    {
        var cache = new TapsCache();
        var layout = TestImages.Layout(new ImageInputOptions { Width = 21, Height = 9 });
        var plan = new ResizePlan(21, 9);
        foreach (var (w, hgt) in new[] { (50, 40), (33, 17), (50, 40) })
        {
            var (h, v) = cache.Get(w, hgt, layout);
            plan.Add(0, w * 3, w, hgt, h, v, 0);
        }
        var bytes = new byte[plan.ByteCount];
        plan.Write(bytes, intermediateBase: 1 << 20);

        long expected = 1 << 20;
        for (int i = 0; i < plan.Count; i++)
        {
            var job = MemoryMarshal.Read<ResizeJob>(bytes.AsSpan(i * ResizeJob.Size));
            Assert.Equal(expected, job.Intermediate);
            Assert.Equal(0, job.Intermediate % ResizePlan.IntermediateAlignment);
            expected += (job.RowCount * 21L * 3 + 255) / 256 * 256;
        }
        Assert.Equal(expected - (1 << 20), plan.IntermediateBytes);
        Assert.Equal(plan.Jobs[0].HorizontalTaps, plan.Jobs[2].HorizontalTaps); // same size, same tables
    }

    [Fact]
    public void TapsThatDoNotFitTheImageAreRefused()
    {
        var plan = new ResizePlan(20, 10);
        var h = ResampleTaps.Compute(50, 20, 0, 20);
        var v = ResampleTaps.Compute(40, 10, 0, 10);

        Assert.Throws<ArgumentException>(() => plan.Add(0, 150, 50, 39, h, v, 0));   // taps read row 39
        Assert.Throws<ArgumentException>(() => plan.Add(0, 100, 50, 40, h, v, 0));   // pitch too small for the width
        Assert.Throws<ArgumentException>(() => plan.Add(0, 150, 50, 40, v, h, 0));   // taps for another output size
    }
}
