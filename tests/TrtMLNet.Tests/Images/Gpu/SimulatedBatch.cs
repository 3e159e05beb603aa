using TrtMLNet.Images;
using TrtMLNet.Images.Gpu;

namespace TrtMLNet.Tests.Images.Gpu;

/// <summary>
/// A batch laid out as NvJpegBatchDecoder lays it out on the GPU, in one byte array standing for device
/// memory: the decoded RGB images (pitch = width * 3, as nvJPEG's RGBI output), then the intermediates, then
/// the output rows; the plan built the decoder's way (<see cref="TapsCache"/>, <see cref="ResizePlan"/>),
/// written, and run by <see cref="ResizeKernelReference"/>.
/// </summary>
internal static class SimulatedBatch
{
    /// <summary>Each image's row of the output (<paramref name="rowBytes"/> apart, default the layout's), as the kernels write them.</summary>
    public static byte[][] Run(ImageTensorLayout layout, IReadOnlyList<RgbImage> images, long rowBytes = 0, byte fill = 0)
    {
        var all = RunWhole(layout, images, rowBytes == 0 ? layout.RowBytes : rowBytes, fill);
        return [.. all.Rows];
    }

    /// <summary>The whole output (gaps between rows included) and each image's row.</summary>
    public static (byte[] Output, byte[][] Rows, ResizePlan Plan) RunWhole(ImageTensorLayout layout, IReadOnlyList<RgbImage> images, long rowBytes, byte fill)
    {
        var taps = new TapsCache();
        long decodedBytes = images.Sum(i => Align(i.Width * 3L * i.Height));
        var plan = new ResizePlan(layout.Width, layout.Height);
        long at = 0;
        foreach (var (image, index) in images.Select((image, index) => (image, index)))
        {
            var (horizontal, vertical) = taps.Get(image.Width, image.Height, layout);
            plan.Add(at, image.Width * 3L, image.Width, image.Height, horizontal, vertical, index * rowBytes);
            at += Align(image.Width * 3L * image.Height);
        }
        long intermediate = decodedBytes;
        long output = intermediate + plan.IntermediateBytes;
        long outputBytes = rowBytes * images.Count;
        var memory = new byte[output + outputBytes];
        at = 0;
        foreach (var image in images)
        {
            image.Pixels.CopyTo(memory, at);
            at += Align(image.Width * 3L * image.Height);
        }
        memory.AsSpan((int)output).Fill(fill);

        var written = new byte[plan.ByteCount];
        plan.Write(written, intermediate);
        ResizeKernelReference.Run(memory, written, plan.Count, layout, output);

        var whole = memory.AsSpan((int)output).ToArray();
        var rows = images.Select((_, i) => whole.AsSpan((int)(i * rowBytes), layout.RowBytes).ToArray()).ToArray();
        return (whole, rows, plan);
    }

    private static long Align(long bytes) => (bytes + 255) / 256 * 256;
}
