using System.Collections.Concurrent;
using TrtMLNet.Device;
using TrtMLNet.Images;
using TrtMLNet.Images.Gpu;
using TrtMLNet.Native.NvJpeg;

namespace TrtMLNet.Scoring;

/// <summary>
/// What decodes one image input of a fitted model, shared by all its cursors: the CPU path (every core,
/// into staging), and on a GPU with nvJPEG the per-lane GPU decoders. Images skipped under
/// <see cref="BadImagePolicy.Skip"/> are kept here for the transformer to report.
/// </summary>
internal sealed class ImageInputRuntime : IDisposable, IHoldsMemory
{
    private readonly ConcurrentQueue<SkippedImage> _skipped = new();

    private ImageInputRuntime(InputShape input, ImageBatchDecoder cpu, LaneImageDecoders? gpu)
    {
        Input = input;
        Cpu = cpu;
        Gpu = gpu;
    }

    public InputShape Input { get; }

    public ImageInput Image => Input.Image!;

    public ImageBatchDecoder Cpu { get; }

    /// <summary>The lanes' nvJPEG decoders; null when images decode on the CPU.</summary>
    public LaneImageDecoders? Gpu { get; }

    public IReadOnlyList<SkippedImage> Skipped => [.. _skipped];

    public int SkippedCount => _skipped.Count;

    /// <summary>
    /// Decodes on the GPU where the model runs on one, the options allow it and nvJPEG loads; says why not
    /// otherwise (an explicit <see cref="ImageDecoderKind.Gpu"/> that cannot be had is an error).
    /// </summary>
    public static ImageInputRuntime Create(InputShape input, ComputeDevice device, Action<string> info)
    {
        var image = input.Image!;
        var cpu = new ImageBatchDecoder(image.Layout, input.Column, image.Options.ImageFolder, image.Options.OnBadImage);
        if (image.Options.Decoder == ImageDecoderKind.Cpu)
            return new ImageInputRuntime(input, cpu, null);
        var why = device is not CudaComputeDevice ? "the model runs on the CPU"
            : !NvJpegLibrary.IsAvailable(out var reason) ? reason
            : null;
        if (why is null)
        {
            var options = NvJpegDecoderOptions.For(image.Options.GpuJpeg, image.Options.GpuJpegThreads);
            return new ImageInputRuntime(input, cpu, new LaneImageDecoders(((CudaComputeDevice)device).Cuda, options));
        }
        if (image.Options.Decoder == ImageDecoderKind.Gpu)
            throw new InvalidOperationException($"Image input '{input.Tensor.Name}' asks for GPU decoding, but {why}. Set Decoder = Auto or Cpu to decode on the CPU.");
        info($"Image input '{input.Tensor.Name}' decodes on the CPU: {why}.");
        return new ImageInputRuntime(input, cpu, null);
    }

    public void Report(IReadOnlyList<BadImage> bad)
    {
        foreach (var image in bad)
            _skipped.Enqueue(new SkippedImage(image.Row, image.Source, image.Reason));
    }

    /// <summary>The GPU decoders' buffers; the CPU path's are ordinary managed memory, not counted.</summary>
    public HeldMemory Held => Gpu?.Held ?? default;

    public void Dispose() => Gpu?.Dispose();
}
