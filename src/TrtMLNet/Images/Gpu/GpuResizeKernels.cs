using System.Reflection;
using TrtMLNet.Native.Cuda;

namespace TrtMLNet.Images.Gpu;

/// <summary>
/// The resize kernels of resize_kernels.cu, loaded from the PTX embedded in this assembly, and their
/// launches: one horizontal pass and one vertical pass (with the write into the tensor) per batch, on the
/// caller's stream. Each launch covers every image of the plan (grid.y = image).
/// </summary>
internal sealed class GpuResizeKernels : IDisposable
{
    public const string PtxResource = "TrtMLNet.Images.Gpu.resize_kernels.ptx";
    public const string HorizontalKernel = "resize_horizontal";
    public const string VerticalKernel = "resize_vertical_write";

    private const int ThreadsPerBlock = 256;

    // The horizontal pass's grid-stride loop covers the rest when an image has more pixels than this grid.
    private const int MaxHorizontalBlocks = 4096;

    // grid.y is the image; CUDA allows 65535.
    public const int MaxImagesPerLaunch = 65535;

    private readonly CudaModule _module;
    private readonly IntPtr _horizontal;
    private readonly IntPtr _vertical;

    public GpuResizeKernels(CudaDevice device)
    {
        _module = device.LoadModule(ReadPtx());
        try
        {
            _horizontal = _module.GetFunction(HorizontalKernel);
            _vertical = _module.GetFunction(VerticalKernel);
        }
        catch
        {
            _module.Dispose();
            throw;
        }
    }

    /// <summary>The PTX text of resize_kernels.cu, as embedded by TrtMLNet.csproj.</summary>
    public static string ReadPtx()
    {
        using var stream = typeof(GpuResizeKernels).Assembly.GetManifestResourceStream(PtxResource)
            ?? throw new InvalidOperationException($"The resource {PtxResource} is missing from {typeof(GpuResizeKernels).Assembly.GetName().Name}: the build lost it (see " +
                $"TrtMLNet.csproj).");
        return new StreamReader(stream).ReadToEnd();
    }

    /// <summary>
    /// Enqueues both passes on <paramref name="stream"/>: <paramref name="planOnDevice"/> holds what
    /// <see cref="ResizePlan.Write"/> wrote, <paramref name="output"/> the batch tensor each job's
    /// OutputOffset is counted from.
    /// </summary>
    public unsafe void Launch(IntPtr stream, ResizePlan plan, IntPtr planOnDevice, IntPtr output, ImageTensorLayout layout)
    {
        if (plan.Count == 0)
            return;
        if (plan.Count > MaxImagesPerLaunch)
            throw new ArgumentException($"A launch takes at most {MaxImagesPerLaunch} images; the plan has {plan.Count}.");
        if (plan.OutputWidth != layout.Width || plan.OutputHeight != layout.Height)
            throw new ArgumentException(
                $"The plan is for {plan.OutputWidth} x {plan.OutputHeight} images, the tensor '{layout.TensorName}' takes {layout.Width} x {layout.Height}.");

        IntPtr jobs = planOnDevice;
        IntPtr tables = planOnDevice + (nint)plan.TablesOffset;
        int width = layout.Width, height = layout.Height;
        uint images = (uint)plan.Count;

        if (plan.MaxIntermediatePixels > 0)
        {
            uint blocks = (uint)Math.Clamp((plan.MaxIntermediatePixels + ThreadsPerBlock - 1) / ThreadsPerBlock, 1, MaxHorizontalBlocks);
            CudaModule.Launch(_horizontal, (blocks, images, 1), (ThreadsPerBlock, 1, 1), stream,
                (IntPtr)(&jobs), (IntPtr)(&tables), (IntPtr)(&width));
        }

        IntPtr outputPointer = output;
        int layoutCode = LayoutCode(layout.Layout), elementCode = ElementCode(layout.ElementType);
        int bgr = layout.ChannelOrder == ImageChannelOrder.Bgr ? 1 : 0;
        float scale0 = layout.Scale[0], scale1 = layout.Scale[1], scale2 = layout.Scale[2];
        float bias0 = layout.Bias[0], bias1 = layout.Bias[1], bias2 = layout.Bias[2];
        uint planeBlocks = (uint)((width * (long)height + ThreadsPerBlock - 1) / ThreadsPerBlock);
        CudaModule.Launch(_vertical, (planeBlocks, images, 1), (ThreadsPerBlock, 1, 1), stream,
            (IntPtr)(&jobs), (IntPtr)(&tables), (IntPtr)(&width), (IntPtr)(&height), (IntPtr)(&outputPointer),
            (IntPtr)(&layoutCode), (IntPtr)(&elementCode), (IntPtr)(&bgr),
            (IntPtr)(&scale0), (IntPtr)(&scale1), (IntPtr)(&scale2), (IntPtr)(&bias0), (IntPtr)(&bias1), (IntPtr)(&bias2));
    }

    /// <summary>resize_kernels.cu's LAYOUT_* values.</summary>
    internal static int LayoutCode(ImageLayout layout) => layout switch
    {
        ImageLayout.Nchw => 0,
        ImageLayout.Nhwc => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(layout), layout, "Not a layout the resize kernel writes."),
    };

    /// <summary>resize_kernels.cu's ELEMENT_* values.</summary>
    internal static int ElementCode(ImageElementType type) => type switch
    {
        ImageElementType.Float32 => 0,
        ImageElementType.Float16 => 1,
        ImageElementType.UInt8 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Not an element type the resize kernel writes."),
    };

    public void Dispose() => _module.Dispose();
}
