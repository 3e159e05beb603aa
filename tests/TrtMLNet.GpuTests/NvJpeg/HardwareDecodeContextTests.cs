using System.Diagnostics;
using TrtMLNet.GpuTests.Support;
using TrtMLNet.Images;
using TrtMLNet.Images.Gpu;
using TrtMLNet.Native.Cuda;
using TrtMLNet.Tests.Images;

namespace TrtMLNet.GpuTests.NvJpeg;

/// <summary>
/// nvJPEG's hardware decoder in a CUDA context of its own (HardwareDecodeContext): the same rows as in the
/// primary context, the calling thread left in the primary context, and no wait for kernels queued there.
/// </summary>
public class HardwareDecodeContextTests
{
    private static byte[][] Jpegs() =>
    [
        .. Enumerable.Range(0, 12).Select(i => TestImages.Jpeg(NvJpegGpu.Photo(500, 375, 500 + i))),
        TestImages.Jpeg(NvJpegGpu.Photo(375, 500, 520), quality: 75),
        NvJpegGpu.Fixture("progressive_96x72.jpg"), // the decoupled decoder, in the same context
        NvJpegGpu.Fixture("baseline444_80x60.jpg"),
    ];

    private static CudaDevice RequireHardwareDecoder(out NvJpegBatchDecoder own)
    {
        var device = NvJpegGpu.Require();
        own = new NvJpegBatchDecoder(device);
        if (!own.UsesHardwareDecoder)
        {
            own.Dispose();
            Assert.Skip($"This GPU ({device.Name}) has no hardware JPEG decoder, so nvJPEG runs in the primary context.");
        }
        return device;
    }

    [Fact]
    public void WritesTheSameRowsAsInThePrimaryContextAndLeavesTheThreadThere()
    {
        var device = RequireHardwareDecoder(out var ownDecoder);
        using var own = ownDecoder;
        using var primary = new NvJpegBatchDecoder(device, new NvJpegDecoderOptions { HardwareDecoderInOwnContext = false });
        var layout = NvJpegGpu.Layout(ImageInputOptions.ImageNet(), "float", ImageLayout.Nchw);
        using var run = new NvJpegGpu.Run(device, Jpegs(), layout);

        Assert.True(own.DecodesInOwnContext, own.Setup);
        Assert.False(primary.DecodesInOwnContext, primary.Setup);
        for (int round = 0; round < 3; round++)
        {
            var (ownResult, ownRows) = run.Decode(own);
            Assert.Equal(CurrentContext(), device.Context);
            var (primaryResult, primaryRows) = run.Decode(primary);
            Assert.Equal(ownResult.HardwareDecoded, primaryResult.HardwareDecoded);
            Assert.Equal(run.Images.Count, ownResult.Decoded);
            for (int i = 0; i < ownRows.Length; i++)
                Assert.True(ownRows[i].AsSpan().SequenceEqual(primaryRows[i]), $"round {round}, row {i}: the rows differ between the two contexts");
        }
    }

    /// <summary>
    /// The reason for the own context: in the primary one, nvjpegDecodeBatched returned only once every kernel
    /// queued in that context had finished, so a lane's decode waited for the other lane's engine.
    /// </summary>
    [Fact]
    public void DoesNotWaitForKernelsQueuedInThePrimaryContext()
    {
        var device = RequireHardwareDecoder(out var ownDecoder);
        using var own = ownDecoder;
        var layout = NvJpegGpu.Layout(ImageInputOptions.ImageNet(), "float", ImageLayout.Nchw);
        using var run = new NvJpegGpu.Run(device, Jpegs(), layout);
        run.Decode(own);
        using var module = device.LoadModule(Gpu.KernelsPtx());
        var spin = module.GetFunction("scratch_probe");
        using var scratch = device.Allocate(8 * 1024, "spinning kernels' scratch");
        using var violations = device.Allocate(4, "spinning kernels' counter");
        using var busyStream = device.CreateStream();
        using var busyDone = device.CreateEvent();
        void Busy(long cycles) => Kernels.Launch(spin, busyStream.Pointer, (4096, 1, 1), (256, 1, 1), scratch.Pointer, 1024L, 7UL, cycles, violations.Pointer);

        // Enough spinning (every SM busy, several waves) to take at least 300 ms alone.
        long cycles = 10_000_000;
        for (double ms = 0; ms < 300; cycles *= 2)
        {
            var watch = Stopwatch.StartNew();
            Busy(cycles);
            busyStream.Synchronize();
            ms = watch.Elapsed.TotalMilliseconds;
        }
        cycles /= 2;

        Busy(cycles);
        busyDone.Record(busyStream);
        var call = Stopwatch.StartNew();
        own.DecodeInto(run.Images, run.Output, run.RowBytes, layout, BadImagePolicy.Fail, run.Stream.Pointer);
        var callMs = call.Elapsed.TotalMilliseconds;
        bool busyFinishedFirst = busyDone.IsComplete();
        busyStream.Synchronize();
        run.Stream.Synchronize();
        Gpu.Note($"A decode of {run.Images.Count} JPEGs with at least 300 ms of kernels queued in the primary context: the call took {callMs:0.0} ms; " +
            $"the kernels had {(busyFinishedFirst ? "" : "not ")}finished when it returned.");
        Assert.False(busyFinishedFirst, $"The decode call ({callMs:0.0} ms) returned only after the primary context's kernels had finished: it waited for them.");
    }

    private static IntPtr CurrentContext()
    {
        CudaCheck.ThrowIfFailed(CudaDriverApi.cuCtxGetCurrent(out var context), "cuCtxGetCurrent");
        return context;
    }
}
