using System.Runtime.InteropServices;
using SkiaSharp;
using TrtMLNet.Images;
using TrtMLNet.Images.Gpu;
using TrtMLNet.Native.Cuda;
using TrtMLNet.Tests.TensorRt;

namespace TrtMLNet.Tests.Images.Gpu;

/// <summary>
/// NvJpegBatchDecoder end to end without a GPU: in a child process whose libcuda.so.1 and libnvjpeg.so.13 are
/// native/FakeGpu (host memory for device memory, nvJPEG's contracts checked, the real resize_kernels.cu run
/// on the CPU, a known pattern for decoded pixels). A mixed batch goes through every route (hardware batch,
/// a batch that fails and is decoded one by one, the decoupled decoder, the CPU, bad images), in parts, and
/// every row is checked against <see cref="SimulatedBatch"/>; then nothing may be left allocated and no
/// contract broken. What it cannot show is nvJPEG's real behaviour and timing: the GPU tests do.
/// </summary>
public class FakeGpuTests
{
    private const string Mode = "fake-gpu";
    private const string Passed = "fake gpu scenario passed";

    internal static void RegisterChildModes() => ChildProcess.Register(Mode, scenario =>
    {
        switch (scenario)
        {
            case "hardware": MixedBatch(hardwareExpected: true); break;
            case "no-engine": MixedBatch(hardwareExpected: false); break;
            case "default-backend": MixedBatch(hardwareExpected: false, useHardware: false); break;
            case "fail-policy": FailPolicy(); break;
            case "many-threads": ManyThreads(); break;
            case "shared-state": return SharedStateIsCaught();
            case "lanes-share": LanesShareTheHybridDecoder(); break;
            default: return 64;
        }
        AssertNothingLeft();
        Console.WriteLine(Passed);
        return 0;
    });

    [Fact]
    public void AMixedBatchOnTheHardwareBackendLandsEveryRowRight() => RunInChild("hardware");

    [Fact]
    public void WithoutAJpegEngineTheDefaultBackendDoesItAll() => RunInChild("no-engine", noEngine: true);

    [Fact]
    public void TheDefaultBackendAskedForDoesItAll() => RunInChild("default-backend");

    [Fact]
    public void ABadImageFailsTheBatchNamingIt() => RunInChild("fail-policy");

    [Fact]
    public void TheHybridDecoderOnSixThreadsKeepsEachStateToOneThreadAndEveryRowRight() => RunInChild("many-threads");

    [Fact]
    public void TheFakeCatchesTwoThreadsOnOneState() => RunInChild("shared-state");

    [Fact]
    public void ThreeLanesDecodingAtOnceShareOneHybridDecoderAndItsSlots() => RunInChild("lanes-share");

    private static void RunInChild(string scenario, bool noEngine = false)
    {
        if (!OperatingSystem.IsLinux())
            Assert.Skip("The fake GPU is a Linux shared library.");
        var library = Path.Combine(AppContext.BaseDirectory, "libtrtmlnet_fake_gpu.so");
        if (!File.Exists(library))
            Assert.Skip($"{library} was not built (FakeGpu.targets needs cmake and a C++17 compiler).");
        var folder = Directory.CreateTempSubdirectory("trtmlnet-fake-gpu-");
        try
        {
            File.CreateSymbolicLink(Path.Combine(folder.FullName, "libcuda.so.1"), library);
            File.CreateSymbolicLink(Path.Combine(folder.FullName, "libnvjpeg.so.13"), library);
            var variables = new Dictionary<string, string>
            {
                ["LD_LIBRARY_PATH"] = folder.FullName + ":" + Environment.GetEnvironmentVariable("LD_LIBRARY_PATH"),
                ["FAKE_NVJPEG_NO_HARDWARE"] = noEngine ? "1" : "0",
            };
            var (code, output, error) = ChildProcess.Run(Mode, scenario, TimeSpan.FromMinutes(3), setVariables: variables);
            Assert.True(code == 0 && output.Contains(Passed), $"The fake GPU child exited {code}.\n{output}\n{error}");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>The pixels the fake "decodes" an image to (fake_nvjpeg.cpp's Write).</summary>
    internal static RgbImage FakeGpuPattern(int width, int height, int components, long length)
    {
        var pixels = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                for (int c = 0; c < 3; c++)
                    pixels[(y * width + x) * 3 + c] = (byte)((x * 7 + y * 13 + (components == 3 ? c * 101 : 0) + (int)(length % 251)) & 255);
        return new RgbImage(width, height, pixels);
    }

    private sealed record TestImage(byte[] Bytes, int Width, int Height, int Components);

    private static TestImage[] Batch()
    {
        var fixtures = Path.Combine(AppContext.BaseDirectory, "Images", "Gpu", "fixtures");
        var jpeg = TestImages.Jpeg(TestImages.Draw(120, 90, 1));
        int sos = IndexOfMarker(jpeg, 0xDA);
        byte[] corrupt = [0xFF, 0xD8, 0xFF, 0xFE, 0x00, 0x0A, .. "CORRUPT\0"u8, .. TestImages.Jpeg(TestImages.Draw(100, 80, 2)).AsSpan(2)];
        using var gray = new SKBitmap(new SKImageInfo(64, 48, SKColorType.Gray8));
        gray.Erase(new SKColor(90, 90, 90));
        using var grayJpeg = gray.Encode(SKEncodedImageFormat.Jpeg, 90);
        return
        [
            new(jpeg, 120, 90, 3),
            new(File.ReadAllBytes(Path.Combine(fixtures, "progressive_96x72.jpg")), 96, 72, 3),
            new(TestImages.Png(TestImages.Draw(30, 20, 3)), 0, 0, 0),
            new(File.ReadAllBytes(Path.Combine(fixtures, "cmyk_96x72.jpg")), 0, 0, 0),
            new(jpeg[..(sos / 2)], 0, 0, 0),
            new(corrupt, 100, 80, 3),
            new(grayJpeg.ToArray(), 64, 48, 1),
            new(TestImages.Jpeg(TestImages.Draw(90, 120, 4)), 90, 120, 3),
            new([], 0, 0, 0),
        ];
    }

    private static void MixedBatch(bool hardwareExpected, bool useHardware = true)
    {
        var device = CudaDriver.GetDevice(0);
        Assert.Equal("Fake GPU", device.Name);
        var images = Batch();
        ImageTensorLayout[] layouts =
        [
            TestImages.Layout(new ImageInputOptions { Resize = ImageResize.ShorterSideThenCenterCrop, ResizeTo = 40, Width = 32, Height = 32, Mean = [0.4f, 0.5f, 0.6f], Std = [0.2f, 0.25f, 0.3f] }, "float", ImageLayout.Nchw),
            TestImages.Layout(new ImageInputOptions { Width = 24, Height = 20, ChannelOrder = ImageChannelOrder.Bgr }, "float16", ImageLayout.Nhwc),
            TestImages.Layout(new ImageInputOptions { Resize = ImageResize.ShorterSideThenCenterCrop, ResizeTo = 20, Width = 36, Height = 28 }, "uint8", ImageLayout.Nchw),
        ];
        // About two decoded images at a time: the batch goes through in parts.
        using var decoder = new NvJpegBatchDecoder(device, new NvJpegDecoderOptions { UseHardwareDecoder = useHardware, MaxDecodedBytes = 40_000 });
        Assert.Equal(hardwareExpected, decoder.UsesHardwareDecoder);
        Assert.Contains("Fake GPU", decoder.Setup);
        if (useHardware && !hardwareExpected)
            Assert.Contains("NVJPEG_STATUS_ARCH_MISMATCH", decoder.Setup);
        foreach (var layout in layouts)
        {
            var (result, rows, gaps) = Decode(device, decoder, images, layout, BadImagePolicy.Skip);

            Assert.Equal([2, 3], result.ForCpu.Select(f => f.Index));
            Assert.Contains("PNG", result.ForCpu[0].Reason);
            Assert.Contains("CMYK", result.ForCpu[1].Reason);
            Assert.Equal([(4, ImageDecodeFailure.Truncated), (5, ImageDecodeFailure.Corrupt), (8, ImageDecodeFailure.Empty)],
                result.BadImages.Select(b => (b.Index, b.Failure)));
            Assert.Contains("NVJPEG_STATUS_BAD_JPEG", result.BadImages[1].Reason);
            Assert.Equal("image 5", result.BadImages[1].Source);
            Assert.Equal(4, result.Decoded);
            if (hardwareExpected)
                Assert.InRange(result.HardwareDecoded, 1, 3); // the progressive image never goes to the engine
            else
                Assert.Equal(0, result.HardwareDecoded);
            foreach (int i in new[] { 0, 1, 6, 7 })
            {
                var expected = SimulatedBatch.Run(layout, [FakeGpuPattern(images[i].Width, images[i].Height, images[i].Components, images[i].Bytes.Length)])[0];
                Assert.True(expected.AsSpan().SequenceEqual(rows[i]), $"Row {i} of {layout.ElementType} {layout.Layout} differs from the reference.");
            }
            Assert.All(new[] { 2, 3 }, i => Assert.All(rows[i], b => Assert.Equal(0x5A, b)));
            Assert.All(new[] { 4, 5, 8 }, i => Assert.All(rows[i], b => Assert.Equal(0, b)));
            Assert.All(gaps, b => Assert.Equal(0x5A, b));
        }
    }

    private static void FailPolicy()
    {
        var device = CudaDriver.GetDevice(0);
        var images = Batch();
        var layout = TestImages.Layout(new ImageInputOptions { Width = 16, Height = 16 }, "float", ImageLayout.Nchw);
        using var decoder = new NvJpegBatchDecoder(device);

        var error = Assert.Throws<ImageDecodeException>(() => Decode(device, decoder, images, layout, BadImagePolicy.Fail));
        Assert.Equal("image 4", error.ImageSource);
        Assert.Equal(ImageDecodeFailure.Truncated, error.Failure);

        // The corrupt image is found only when decoding: the batch fails there, and the decoder stays usable.
        var error5 = Assert.Throws<ImageDecodeException>(() => Decode(device, decoder, [images[0], images[5], images[7]], layout, BadImagePolicy.Fail));
        Assert.Equal("image 1", error5.ImageSource);
        Assert.Equal(ImageDecodeFailure.Corrupt, error5.Failure);
        Assert.IsType<NvJpegException>(error5.InnerException);
        var (result, _, _) = Decode(device, decoder, [images[0], images[7]], layout, BadImagePolicy.Fail);
        Assert.Equal(2, result.Decoded);
    }

    /// <summary>
    /// The hybrid decoder on six threads, three rounds of 40 JPEGs of different sizes: every row as the
    /// reference says, and (checked by the fake on every call) no state, bitstream or parameter set used by two
    /// threads at once.
    /// </summary>
    private static void ManyThreads()
    {
        var device = CudaDriver.GetDevice(0);
        var images = Enumerable.Range(0, 40).Select(i => new TestImage(TestImages.Jpeg(TestImages.Draw(40 + 3 * i, 30 + 2 * i, i)), 40 + 3 * i, 30 + 2 * i, 3)).ToArray();
        var layout = TestImages.Layout(new ImageInputOptions { Width = 24, Height = 20 }, "float", ImageLayout.Nchw);
        using var decoder = new NvJpegBatchDecoder(device, new NvJpegDecoderOptions { UseHardwareDecoder = false, HostThreads = 6 });
        for (int round = 0; round < 3; round++)
        {
            var (result, rows, _) = Decode(device, decoder, images, layout, BadImagePolicy.Fail);
            Assert.Equal((0, images.Length), (result.HardwareDecoded, result.OtherDecoded));
            for (int i = 0; i < images.Length; i++)
            {
                var expected = SimulatedBatch.Run(layout, [FakeGpuPattern(images[i].Width, images[i].Height, images[i].Components, images[i].Bytes.Length)])[0];
                Assert.True(expected.AsSpan().SequenceEqual(rows[i]), $"Round {round}, row {i} differs from the reference.");
            }
        }
        // What nvJPEG's buffers hold is counted (the fake grows each to 3 bytes per pixel of its largest image):
        // at least the largest image, at most one such per slot, on each side; beside the decoder's own buffers.
        var largest = 3L * images.Max(i => (long)i.Width * i.Height);
        var hybrid = decoder.Hybrid.Held;
        Assert.InRange(hybrid.PinnedHostBytes, largest, 2 * 6 * largest);
        Assert.InRange(hybrid.DeviceBytes, largest, 2 * 6 * largest);
        Assert.True(decoder.Held.DeviceBytes > hybrid.DeviceBytes, "The decoder's own buffers (decoded images, the resize's) are not counted.");
    }

    /// <summary>
    /// Three lanes' decoders (no hardware engine: every image goes to the hybrid decoder) decode at once, twice: they
    /// share the first lane's hybrid decoder, every row is right, no nvJPEG object is used by two threads at once
    /// (the fake checks), the slots are no more than the workers that ran at once, the memory is counted once, and
    /// disposing frees everything (checked after the scenario).
    /// </summary>
    private static void LanesShareTheHybridDecoder()
    {
        var device = CudaDriver.GetDevice(0);
        var images = Enumerable.Range(0, 24).Select(i => new TestImage(TestImages.Jpeg(TestImages.Draw(40 + 3 * i, 30 + 2 * i, i)), 40 + 3 * i, 30 + 2 * i, 3)).ToArray();
        var layout = TestImages.Layout(new ImageInputOptions { Width = 24, Height = 20 }, "float", ImageLayout.Nchw);
        using var lanes = new LaneImageDecoders(device, new NvJpegDecoderOptions { UseHardwareDecoder = false, HostThreads = 4 });
        var expected = images.Select(i => SimulatedBatch.Run(layout, [FakeGpuPattern(i.Width, i.Height, i.Components, i.Bytes.Length)])[0]).ToArray();
        // This child runs inside the test assembly's module initializer, and a type of this assembly first used on
        // another thread would wait for it to end: one decode here first readies every type the lanes use.
        CheckRows(Decode(device, lanes.For(0), images, layout, BadImagePolicy.Fail), expected, "lane 0 alone");
        for (int round = 0; round < 2; round++)
        {
            Parallel.For(0, 3, new ParallelOptions { MaxDegreeOfParallelism = 3 }, lane =>
            {
                device.MakeCurrent();
                CheckRows(Decode(device, lanes.For(lane), images, layout, BadImagePolicy.Fail), expected, $"round {round}, lane {lane}");
            });
        }
        var hybrid = lanes.For(0).Hybrid;
        Assert.Same(hybrid, lanes.For(1).Hybrid);
        Assert.Same(hybrid, lanes.For(2).Hybrid);
        Assert.InRange(hybrid.SlotPairs, 1, 3 * 4);
        var own = Enumerable.Range(0, 3).Aggregate(new TrtMLNet.Device.HeldMemory(), (sum, lane) => sum + lanes.For(lane).OwnHeld);
        Assert.Equal(own + hybrid.Held, lanes.Held);
        Assert.True(hybrid.Held.PinnedHostBytes > 0, "The shared hybrid decoder's buffers are not counted.");
    }

    private static void CheckRows((GpuDecodeResult Result, byte[][] Rows, byte[] Gaps) decoded, byte[][] expected, string what)
    {
        Assert.Equal((0, expected.Length), (decoded.Result.HardwareDecoded, decoded.Result.OtherDecoded));
        for (int i = 0; i < expected.Length; i++)
            Assert.True(expected[i].AsSpan().SequenceEqual(decoded.Rows[i]), $"{what}: row {i} differs from the reference.");
    }

    /// <summary>The control for <see cref="ManyThreads"/>: two threads on one decoupled state do break the fake's contract.</summary>
    private static unsafe int SharedStateIsCaught()
    {
        var device = CudaDriver.GetDevice(0);
        device.MakeCurrent();
        var jpeg = TestImages.Jpeg(TestImages.Draw(40, 30, 1));
        using (var library = Native.NvJpeg.NvJpegLibraryHandle.Create(Native.NvJpeg.NvJpegBackend.Default, 0, device.Context))
        using (var decoder = Native.NvJpeg.NvJpegDecoder.Create(library, Native.NvJpeg.NvJpegBackend.Default))
        using (var state = Native.NvJpeg.NvJpegState.Create(library, decoder))
        using (var pinned = Native.NvJpeg.NvJpegPinnedBuffer.Create(library))
        using (var parameters = Native.NvJpeg.NvJpegDecodeParams.Create(library, Native.NvJpeg.NvJpegOutputFormat.Rgbi))
        {
            state.Attach(pinned);
            Parallel.For(0, 2, new ParallelOptions { MaxDegreeOfParallelism = 2 }, _ =>
            {
                using var bitstream = Native.NvJpeg.NvJpegStream.Create(library);
                fixed (byte* data = jpeg)
                {
                    for (int i = 0; i < 50; i++)
                    {
                        Native.NvJpeg.NvJpegApi.nvjpegJpegStreamParse(library.Pointer, data, (nuint)jpeg.Length, 0, 0, bitstream.Pointer);
                        Native.NvJpeg.NvJpegApi.nvjpegDecodeJpegHost(library.Pointer, decoder.Pointer, state.Pointer, parameters.Pointer, bitstream.Pointer);
                    }
                }
            });
        }
        var text = Report();
        Assert.Matches(@"violations [1-9]", text);
        Assert.Contains("the state is in use by another thread's call", text);
        Console.WriteLine(Passed);
        return 0;
    }

    /// <summary>One batch through the decoder, rows 64 bytes apart beyond their size; returns the rows and the gaps' bytes.</summary>
    private static (GpuDecodeResult Result, byte[][] Rows, byte[] Gaps) Decode(CudaDevice device, NvJpegBatchDecoder decoder, IReadOnlyList<TestImage> images, ImageTensorLayout layout, BadImagePolicy policy)
    {
        long rowBytes = layout.RowBytes + 64;
        using var staging = device.AllocatePinned(Math.Max(1, images.Sum(i => i.Bytes.Length)), "test JPEGs");
        using var output = device.Allocate(rowBytes * images.Count, "test batch");
        using var stream = device.CreateStream();
        var encoded = new List<EncodedImage>();
        long at = 0;
        for (int i = 0; i < images.Count; i++)
        {
            Marshal.Copy(images[i].Bytes, 0, staging.Pointer + (nint)at, images[i].Bytes.Length);
            encoded.Add(new EncodedImage(images[i].Bytes.Length == 0 ? IntPtr.Zero : staging.Pointer + (nint)at, images[i].Bytes.Length, $"image {i}", 100 + i));
            at += images[i].Bytes.Length;
        }
        stream.Memset(output.Pointer, 0x5A, rowBytes * images.Count);
        var result = decoder.DecodeInto(encoded, output.Pointer, rowBytes, layout, policy, stream.Pointer);
        stream.Synchronize();
        var all = new byte[rowBytes * images.Count];
        Marshal.Copy(output.Pointer, all, 0, all.Length); // the fake's device memory is host memory
        var rows = Enumerable.Range(0, images.Count).Select(i => all.AsSpan((int)(i * rowBytes), layout.RowBytes).ToArray()).ToArray();
        var gaps = Enumerable.Range(0, images.Count).SelectMany(i => all.AsSpan((int)(i * rowBytes + layout.RowBytes), 64).ToArray()).ToArray();
        foreach (var bad in result.BadImages)
            Assert.Equal(100 + bad.Index, bad.Row);
        return (result, rows, gaps);
    }

    /// <summary>The fake's own account: what is still allocated, the contracts broken, and how.</summary>
    private static string Report()
    {
        var fake = NativeLibrary.Load("libcuda.so.1");
        unsafe
        {
            var report = (delegate* unmanaged<byte*, int, int>)NativeLibrary.GetExport(fake, "fake_gpu_report");
            var buffer = new byte[8192];
            fixed (byte* b = buffer)
                report(b, buffer.Length);
            return System.Text.Encoding.UTF8.GetString(buffer).TrimEnd('\0');
        }
    }

    private static void AssertNothingLeft()
    {
        var text = Report();
        Assert.True(text.StartsWith("device_allocations 0\npinned_allocations 0\ncuda_objects 0\nnvjpeg_objects 0\nviolations 0\n", StringComparison.Ordinal),
            $"The fake GPU has things left or contracts broken:\n{text}");
        // Every thread that made the context current also stopped minding other threads' graph captures.
        Assert.Matches(@"thread_local_capture_threads [1-9]", text);
    }

    private static int IndexOfMarker(byte[] jpeg, byte marker)
    {
        for (int i = 2; i + 1 < jpeg.Length; i++)
            if (jpeg[i] == 0xFF && jpeg[i + 1] == marker)
                return i;
        throw new InvalidOperationException($"No marker 0xFF{marker:X2}.");
    }
}
