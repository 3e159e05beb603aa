using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using TrtMLNet.Images;
using TrtMLNet.Images.Gpu;

namespace TrtMLNet.Tests.Images.Gpu;

/// <summary>
/// The C# side and the CUDA side of the resize kernels agree: the job layout (resize_kernels.cu states its
/// offsets in static assertions), the codes passed for layout and element type, and the embedded PTX: present,
/// with both entry points and the parameter list the launches pass.
/// </summary>
public partial class ResizeKernelSourceTests
{
    private static string KernelSource([CallerFilePath] string here = "") =>
        File.ReadAllText(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", "..", "..", "src", "TrtMLNet", "Images", "Gpu", "resize_kernels.cu"));

    [Fact]
    public void ResizeJobHasTheLayoutTheKernelAsserts()
    {
        var asserted = OffsetAssertion().Matches(KernelSource()).ToDictionary(m => m.Groups[1].Value, m => int.Parse(m.Groups[2].Value));

        Assert.Equal(12, asserted.Count);
        foreach (var (field, offset) in asserted)
        {
            string name = char.ToUpperInvariant(field[0]) + field[1..];
            Assert.Equal(offset, (int)Marshal.OffsetOf<ResizeJob>(name));
        }
        Assert.Contains("static_assert(sizeof(ResizeJob) == 64", KernelSource());
        Assert.Equal(64, Marshal.SizeOf<ResizeJob>());
        Assert.Equal(64, Unsafe.SizeOf<ResizeJob>());
    }

    [Fact]
    public void TheLayoutAndElementCodesAreTheKernels()
    {
        var source = KernelSource();
        int Define(string name) => int.Parse(Regex.Match(source, $@"#define {name} (\d+)").Groups[1].Value);

        Assert.Equal(Define("LAYOUT_NCHW"), GpuResizeKernels.LayoutCode(ImageLayout.Nchw));
        Assert.Equal(Define("LAYOUT_NHWC"), GpuResizeKernels.LayoutCode(ImageLayout.Nhwc));
        Assert.Equal(Define("ELEMENT_FLOAT32"), GpuResizeKernels.ElementCode(ImageElementType.Float32));
        Assert.Equal(Define("ELEMENT_FLOAT16"), GpuResizeKernels.ElementCode(ImageElementType.Float16));
        Assert.Equal(Define("ELEMENT_UINT8"), GpuResizeKernels.ElementCode(ImageElementType.UInt8));
        Assert.Equal(ResampleTaps.PrecisionBits, Define("PRECISION_BITS"));
    }

    [Fact]
    public void ThePtxIsEmbeddedWithBothKernelsAndTheParametersTheLaunchesPass()
    {
        var ptx = GpuResizeKernels.ReadPtx();

        Assert.Contains(".target sm_70", ptx);
        // What GpuResizeKernels.Launch passes, in order: pointers are u64, ints u32, floats f32.
        Assert.Equal(["u64", "u64", "u32"], Parameters(ptx, GpuResizeKernels.HorizontalKernel));
        Assert.Equal(["u64", "u64", "u32", "u32", "u64", "u32", "u32", "u32", "f32", "f32", "f32", "f32", "f32", "f32"],
            Parameters(ptx, GpuResizeKernels.VerticalKernel));
    }

    [Fact]
    public void ThePtxWasGeneratedFromTheKernelSourceAsItIsNow()
    {
        // regen-ptx.sh must be run after each change to the .cu: every kernel the source declares is in the PTX.
        var declared = Regex.Matches(KernelSource(), @"extern ""C"" __global__ void (\w+)\(").Select(m => m.Groups[1].Value).ToArray();
        var entries = Regex.Matches(GpuResizeKernels.ReadPtx(), @"\.visible \.entry (\w+)\(").Select(m => m.Groups[1].Value).ToArray();

        Assert.Equal(declared, entries);
    }

    private static string[] Parameters(string ptx, string kernel)
    {
        var entry = Regex.Match(ptx, $@"\.visible \.entry {kernel}\((.*?)\)", RegexOptions.Singleline);
        Assert.True(entry.Success, $"The PTX has no entry point {kernel}.");
        return [.. Regex.Matches(entry.Groups[1].Value, @"\.param \.(\w+) ").Select(m => m.Groups[1].Value)];
    }

    [GeneratedRegex(@"static_assert\(offsetof\(ResizeJob, (\w+)\) == (\d+)")]
    private static partial Regex OffsetAssertion();
}
