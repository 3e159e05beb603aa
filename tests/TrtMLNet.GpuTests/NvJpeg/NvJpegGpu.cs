using System.Runtime.InteropServices;
using TrtMLNet.Images;
using TrtMLNet.Images.Gpu;
using TrtMLNet.Native.Cuda;
using TrtMLNet.Native.NvJpeg;
using TrtMLNet.Tests.Images;

namespace TrtMLNet.GpuTests.NvJpeg;

/// <summary>What the nvJPEG tests need: a GPU and nvJPEG (skipping with the reason without them), test JPEGs, and a batch run end to end.</summary>
internal static class NvJpegGpu
{
    public static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "NvJpegFixtures");

    /// <summary>GPU 0 with nvJPEG, or skips saying which is missing.</summary>
    public static CudaDevice Require()
    {
        if (!CudaDriver.IsAvailable(out var noGpu))
            Assert.Skip($"No GPU here: {noGpu}");
        if (!NvJpegLibrary.IsAvailable(out var reason))
            Assert.Skip($"nvJPEG cannot be used here: {reason}");
        return CudaDriver.GetDevice(0);
    }

    /// <summary>A photo-like picture (<see cref="TestImages.Photo"/>).</summary>
    public static RgbImage Photo(int width, int height, int seed) => TestImages.Photo(width, height, seed);

    public static byte[] Fixture(string name) => File.ReadAllBytes(Path.Combine(Fixtures, name));

    public static ImageTensorLayout Layout(ImageInputOptions options, string type, ImageLayout layout)
    {
        options.ReducedDecode = false; // the GPU decodes at full size; compare with the CPU's full decode
        return TestImages.Layout(options, type, layout);
    }

    /// <summary>One batch through a decoder: encoded bytes in pinned memory, rows on the device, the rows back on the host.</summary>
    public sealed class Run : IDisposable
    {
        private readonly CudaDevice _device;
        private readonly CudaPinnedMemory _staging;
        private readonly CudaDeviceMemory _output;
        private readonly CudaPinnedMemory _back;

        public Run(CudaDevice device, IReadOnlyList<byte[]> encoded, ImageTensorLayout layout, long rowBytes = 0, string prefix = "image")
        {
            _device = device;
            Layout = layout;
            RowBytes = rowBytes == 0 ? layout.RowBytes : rowBytes;
            _staging = device.AllocatePinned(Math.Max(1, encoded.Sum(e => (long)e.Length)), "test JPEGs");
            var images = new List<EncodedImage>();
            long at = 0;
            foreach (var (bytes, i) in encoded.Select((b, i) => (b, i)))
            {
                Marshal.Copy(bytes, 0, _staging.Pointer + (nint)at, bytes.Length);
                images.Add(new EncodedImage(_staging.Pointer + (nint)at, bytes.Length, $"{prefix} {i}", i));
                at += bytes.Length;
            }
            Images = images;
            _output = device.Allocate(RowBytes * encoded.Count, "test batch");
            _back = device.AllocatePinned(RowBytes * encoded.Count, "test batch (host)");
            Stream = device.CreateStream();
        }

        public ImageTensorLayout Layout { get; }
        public long RowBytes { get; }
        public IReadOnlyList<EncodedImage> Images { get; }
        public CudaStream Stream { get; }
        public IntPtr Output => _output.Pointer;

        /// <summary>Fills the output with <paramref name="value"/>, decodes into it, waits, and returns each row's bytes.</summary>
        public (GpuDecodeResult Result, byte[][] Rows) Decode(NvJpegBatchDecoder decoder, BadImagePolicy policy = BadImagePolicy.Fail, byte fill = 0x5A)
        {
            Stream.Memset(_output.Pointer, fill, RowBytes * Images.Count);
            var result = decoder.DecodeInto(Images, _output.Pointer, RowBytes, Layout, policy, Stream.Pointer);
            Stream.CopyToHost(_back.Pointer, _output.Pointer, RowBytes * Images.Count);
            Stream.Synchronize();
            var rows = Enumerable.Range(0, Images.Count).Select(i =>
            {
                var row = new byte[Layout.RowBytes];
                Marshal.Copy(_back.Pointer + (nint)(i * RowBytes), row, 0, row.Length);
                return row;
            }).ToArray();
            return (result, rows);
        }

        /// <summary>The decoder's last decoded images (nvJPEG's RGBI), copied to the host, by batch index.</summary>
        public Dictionary<int, RgbImage> DecodedPixels(NvJpegBatchDecoder decoder)
        {
            var result = new Dictionary<int, RgbImage>();
            foreach (var d in decoder.LastDecoded)
            {
                var pixels = new byte[d.Width * 3 * d.Height];
                using var host = _device.AllocatePinned(d.Pitch * d.Height, "test copy");
                Stream.CopyToHost(host.Pointer, d.Pixels, d.Pitch * d.Height);
                Stream.Synchronize();
                for (int y = 0; y < d.Height; y++)
                    Marshal.Copy(host.Pointer + (nint)(y * d.Pitch), pixels, y * d.Width * 3, d.Width * 3);
                result[d.Index] = new RgbImage(d.Width, d.Height, pixels);
            }
            return result;
        }

        public void Dispose()
        {
            Stream.Dispose();
            _back.Dispose();
            _output.Dispose();
            _staging.Dispose();
        }
    }

    /// <summary>Values of a row on the 0..255 pixel scale: raw for uint8, (v - bias) / scale for float and float16.</summary>
    public static double[] PixelScale(ImageTensorLayout layout, byte[] row)
    {
        int plane = layout.Width * layout.Height;
        var values = new double[plane * 3];
        for (int i = 0; i < values.Length; i++)
        {
            int c = layout.Layout == ImageLayout.Nchw ? i / plane : i % 3;
            double v = layout.ElementType switch
            {
                ImageElementType.UInt8 => row[i],
                ImageElementType.Float32 => BitConverter.ToSingle(row, i * 4),
                _ => (double)BitConverter.ToHalf(row, i * 2),
            };
            values[i] = layout.ElementType == ImageElementType.UInt8 ? v : (v - layout.Bias[c]) / layout.Scale[c];
        }
        return values;
    }

    /// <summary>Largest and mean absolute difference, on the 0..255 scale.</summary>
    public static (double Max, double Mean) Difference(double[] a, double[] b)
    {
        double max = 0, sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = Math.Abs(a[i] - b[i]);
            max = Math.Max(max, d);
            sum += d;
        }
        return (max, sum / a.Length);
    }
}
