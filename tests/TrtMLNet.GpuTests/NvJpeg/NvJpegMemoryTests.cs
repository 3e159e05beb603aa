using TrtMLNet.GpuTests.Support;
using TrtMLNet.Images;
using TrtMLNet.Images.Gpu;
using TrtMLNet.Tests.Images;

namespace TrtMLNet.GpuTests.NvJpeg;

/// <summary>All the device memory a decoder takes (nvJPEG's, decoded images, intermediates, tables) returns on Dispose.</summary>
public class NvJpegMemoryTests
{
    /// <summary>
    /// Slack for the driver's own pools, which moved by up to 12 MiB between identical rounds on the H200;
    /// the decoded batch the round holds is about 100 MiB, so leaking it (or most of it) still fails.
    /// </summary>
    private const long SlackBytes = 16L << 20;

    [Fact]
    public void DeviceMemoryIsBackToItsBaselineAfterDispose()
    {
        var device = NvJpegGpu.Require();
        var layout = NvJpegGpu.Layout(ImageInputOptions.ImageNet(), "float", ImageLayout.Nchw);
        var small = Enumerable.Range(0, 32).Select(i => TestImages.Jpeg(NvJpegGpu.Photo(500, 375, 300 + i))).ToArray();
        byte[][] large = [.. small.Take(8), TestImages.Jpeg(NvJpegGpu.Photo(2400, 1800, 400)), NvJpegGpu.Fixture("progressive_96x72.jpg")];

        // Round 1 loads nvJPEG's and the resize kernels' code into the context, which stays for the process.
        Round(device, layout, small, large, hardware: true);
        Round(device, layout, small, large, hardware: false);
        long baseline = Gpu.FreeBytes(device);
        long during = Round(device, layout, small, large, hardware: true);
        long afterHardware = Gpu.FreeBytes(device);
        Round(device, layout, small, large, hardware: false);
        long after = Gpu.FreeBytes(device);

        Gpu.Note($"nvJPEG decoder device memory: free {Gpu.MiB(baseline)} before, {Gpu.MiB(during)} while a decoder held a 2400 x 1800 batch, {Gpu.MiB(afterHardware)} after the hardware decoder's Dispose, {Gpu.MiB(after)} after the default backend's");
        Assert.True(baseline - during > 16L << 20, "The round should have taken device memory while it ran.");
        // A leak leaves less free than before; more free (the driver returning its own pools) is no leak.
        Assert.True(baseline - afterHardware <= SlackBytes, $"{Gpu.MiB(baseline - afterHardware)} not returned after the hardware decoder's Dispose");
        Assert.True(baseline - after <= SlackBytes, $"{Gpu.MiB(baseline - after)} not returned after the default backend's Dispose");
    }

    /// <summary>A decoder grown by two batches (the second with a large image), then disposed; returns free memory before the Dispose.</summary>
    private static long Round(Native.Cuda.CudaDevice device, ImageTensorLayout layout, byte[][] first, byte[][] second, bool hardware)
    {
        using var runA = new NvJpegGpu.Run(device, first, layout);
        using var runB = new NvJpegGpu.Run(device, second, layout);
        long free;
        using (var decoder = new NvJpegBatchDecoder(device, new NvJpegDecoderOptions { UseHardwareDecoder = hardware }))
        {
            Assert.Equal(first.Length, runA.Decode(decoder).Result.Decoded);
            Assert.Equal(second.Length, runB.Decode(decoder).Result.Decoded);
            free = Gpu.FreeBytes(device);
        }
        return free;
    }
}
