using TrtMLNet.Device;
using TrtMLNet.Execution;
using TrtMLNet.Tests.Support;

namespace TrtMLNet.Tests.Execution;

/// <summary>What an engine's attachments hold (the image decoders' buffers) reaches the memory report and its totals.</summary>
public class MemoryReportTests
{
    private sealed class Holder(HeldMemory held) : IDisposable, IHoldsMemory
    {
        public HeldMemory Held => held;

        public void Dispose() { }
    }

    [Fact]
    public void What_attachments_hold_is_in_the_engines_line_and_the_device_totals()
    {
        var device = new PrivateCpuDevice();
        var pool = ExecutionPool.Acquire(device);
        var runtime = new ModelRuntime(new MarkingEngine(8, device: device), pool,
            new RuntimeSettings("held", Lanes: 1, ContextsPerProfile: 1, ShareScratch: true, ScratchSlabs: 1, IoBytesPerLane: 1024));
        try
        {
            var before = MemoryReportBuilder.Create(pool);
            runtime.Attach(new Holder(new HeldMemory(3 << 20, 1 << 20)));
            runtime.Attach(new Holder(new HeldMemory(1 << 20, 0)));
            runtime.Attach(new Holder(new HeldMemory(0, 0)) as IDisposable);

            var report = MemoryReportBuilder.Create(pool);

            var engine = Assert.Single(report.Engines);
            Assert.Equal((4L << 20, 1L << 20), (engine.DecoderDeviceBytes, engine.DecoderPinnedHostBytes));
            Assert.Equal(before.SharedTotalBytes + (4L << 20), report.SharedTotalBytes);
            Assert.Equal(before.NaiveTotalBytes + (4L << 20), report.NaiveTotalBytes);
            Assert.Contains("image decoders", report.ToString());
            Assert.DoesNotContain("image decoders", before.ToString());
        }
        finally
        {
            runtime.Close();
        }
    }
}
