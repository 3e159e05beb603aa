using System.Runtime.InteropServices;
using TrtMLNet.Images;
using TrtMLNet.Images.Gpu;

namespace TrtMLNet.Tests.Images.Gpu;

/// <summary>
/// resize_kernels.cu statement for statement on the host, over a simulated device memory (one byte array;
/// the "device pointers" in the jobs are offsets into it), reading exactly what <see cref="ResizePlan.Write"/>
/// wrote. The CPU tests hold it to Pillow's own pixels and to the CPU path's bytes; the GPU tests hold the
/// real kernels to it on nvJPEG's decoded pixels. A change to the kernels is mirrored here.
/// </summary>
internal static class ResizeKernelReference
{
    private const int PrecisionBits = 22;
    private const int Half = 1 << (PrecisionBits - 1);

    /// <summary>Runs both kernels over the <paramref name="jobCount"/> jobs of <paramref name="plan"/> into <paramref name="memory"/> at <paramref name="output"/>.</summary>
    public static void Run(byte[] memory, ReadOnlySpan<byte> plan, int jobCount, ImageTensorLayout layout, long output)
    {
        var tables = MemoryMarshal.Cast<byte, int>(plan[(jobCount * ResizeJob.Size)..]);
        for (int i = 0; i < jobCount; i++)
        {
            var job = MemoryMarshal.Read<ResizeJob>(plan.Slice(i * ResizeJob.Size, ResizeJob.Size));
            Horizontal(memory, job, tables, layout.Width);
            VerticalWrite(memory, job, tables, layout, output);
        }
    }

    private static void Horizontal(byte[] memory, ResizeJob job, ReadOnlySpan<int> tables, int outWidth)
    {
        var first = tables.Slice(job.HorizontalTaps, outWidth);
        var count = tables.Slice(job.HorizontalTaps + outWidth, outWidth);
        var weights = tables[(job.HorizontalTaps + 2 * outWidth)..];
        long total = (long)job.RowCount * outWidth;
        for (long k = 0; k < total; k++)
        {
            int row = (int)(k / outWidth);
            int x = (int)(k - (long)row * outWidth);
            int n = count[x];
            int r = Half, g = Half, b = Half;
            if (n > 0)
            {
                long input = job.Source + (long)(job.RowStart + row) * job.SourcePitch + (long)first[x] * 3;
                for (int t = 0; t < n; t++)
                {
                    int weight = weights[x * job.HorizontalMaxTaps + t];
                    r += memory[input + 3 * t] * weight;
                    g += memory[input + 3 * t + 1] * weight;
                    b += memory[input + 3 * t + 2] * weight;
                }
            }
            long outAt = job.Intermediate + k * 3;
            memory[outAt] = Clip8(r);
            memory[outAt + 1] = Clip8(g);
            memory[outAt + 2] = Clip8(b);
        }
    }

    private static void VerticalWrite(byte[] memory, ResizeJob job, ReadOnlySpan<int> tables, ImageTensorLayout layout, long output)
    {
        int outWidth = layout.Width, outHeight = layout.Height;
        var first = tables.Slice(job.VerticalTaps, outHeight);
        var count = tables.Slice(job.VerticalTaps + outHeight, outHeight);
        var weights = tables[(job.VerticalTaps + 2 * outHeight)..];
        long rowBytes = outWidth * 3L;
        int plane = outWidth * outHeight;
        long row = output + job.OutputOffset;
        bool bgr = layout.ChannelOrder == ImageChannelOrder.Bgr;
        for (int k = 0; k < plane; k++)
        {
            int y = k / outWidth, x = k - y * outWidth;
            int n = count[y];
            int r = Half, g = Half, b = Half;
            if (n > 0)
            {
                long input = job.Intermediate + (first[y] - job.RowStart) * rowBytes + x * 3L;
                for (int t = 0; t < n; t++)
                {
                    int weight = weights[y * job.VerticalMaxTaps + t];
                    long p = input + t * rowBytes;
                    r += memory[p] * weight;
                    g += memory[p + 1] * weight;
                    b += memory[p + 2] * weight;
                }
            }
            byte red = Clip8(r), green = Clip8(g), blue = Clip8(b);
            byte c0 = bgr ? blue : red, c2 = bgr ? red : blue;
            if (layout.Layout == ImageLayout.Nchw)
            {
                Store(memory, row, layout, k, c0, 0);
                Store(memory, row, layout, plane + k, green, 1);
                Store(memory, row, layout, 2L * plane + k, c2, 2);
            }
            else
            {
                Store(memory, row, layout, k * 3L, c0, 0);
                Store(memory, row, layout, k * 3L + 1, green, 1);
                Store(memory, row, layout, k * 3L + 2, c2, 2);
            }
        }
    }

    private static void Store(byte[] memory, long row, ImageTensorLayout layout, long index, byte pixel, int channel)
    {
        if (layout.ElementType == ImageElementType.UInt8)
        {
            memory[row + index] = pixel;
            return;
        }
        // __fadd_rn(__fmul_rn(pixel, scale), bias): single precision, each step rounded, no fused multiply-add.
        float product = pixel * layout.Scale[channel];
        float value = product + layout.Bias[channel];
        if (layout.ElementType == ImageElementType.Float32)
            MemoryMarshal.Write(memory.AsSpan((int)(row + index * 4), 4), in value);
        else
        {
            var half = (System.Half)value;
            MemoryMarshal.Write(memory.AsSpan((int)(row + index * 2), 2), in half);
        }
    }

    private static byte Clip8(int sum) => (byte)Math.Clamp(sum >> PrecisionBits, 0, 255);
}
