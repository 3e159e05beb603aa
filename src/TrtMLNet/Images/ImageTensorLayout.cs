using System.Globalization;

namespace TrtMLNet.Images;

/// <summary>The element types an image tensor can have.</summary>
internal enum ImageElementType
{
    Float32,
    Float16,

    /// <summary>Raw pixels 0..255: no scale, mean or std.</summary>
    UInt8,
}

/// <summary>
/// Everything a decoder needs to write one image into its row of a batch: the image's size in the tensor,
/// the layout, channel order and element type, how it is resized, and the per-channel affine map
/// <c>value = pixel * Scale[c] + Bias[c]</c> (<c>c</c> in the tensor's channel order), where
/// <c>Scale = PixelScale / std</c> and <c>Bias = -mean / std</c> (1 and 0 for uint8 tensors).
/// </summary>
internal sealed record ImageTensorLayout(
    string TensorName,
    int Width,
    int Height,
    ImageLayout Layout,
    ImageChannelOrder ChannelOrder,
    ImageElementType ElementType,
    float[] Scale,
    float[] Bias,
    ImageResize Resize,
    int ResizeTo,
    bool ReducedDecode)
{
    public const int Channels = 3;

    public int ElementSize => ElementType switch
    {
        ImageElementType.Float32 => 4,
        ImageElementType.Float16 => 2,
        _ => 1,
    };

    /// <summary>Bytes one image takes in the batch: Width * Height * 3 elements.</summary>
    public int RowBytes => Width * Height * Channels * ElementSize;

    /// <summary>Where a source image of this size goes: its resized size and the crop box.</summary>
    public ImageGeometry GeometryFor(int sourceWidth, int sourceHeight) => Resize switch
    {
        ImageResize.Stretch => ImageGeometry.Stretch(sourceWidth, sourceHeight, Width, Height),
        _ => ImageGeometry.ShorterSideThenCenterCrop(sourceWidth, sourceHeight, ResizeTo, Width, Height),
    };

    /// <summary>The element type for an ONNX type name ("float", "float16", "uint8"); null for any other.</summary>
    public static ImageElementType? ElementTypeFromOnnxName(string typeName) => typeName switch
    {
        "float" or "float32" => ImageElementType.Float32,
        "float16" => ImageElementType.Float16,
        "uint8" => ImageElementType.UInt8,
        _ => null,
    };

    /// <summary>
    /// The layout of image tensor <paramref name="tensorName"/> of type <paramref name="typeName"/> (ONNX's name)
    /// and <paramref name="shape"/> (-1 for open dimensions) fed as <paramref name="options"/> say.
    /// Every error names the tensor and says what to change.
    /// </summary>
    public static ImageTensorLayout Create(ImageInputOptions options, string tensorName, string typeName, IReadOnlyList<long> shape)
    {
        string what = $"Image input '{tensorName}'";
        var elementType = ElementTypeFromOnnxName(typeName)
            ?? throw new ArgumentException($"{what} is a {typeName} tensor; images can feed float, float16 or uint8 tensors only.");
        if (shape.Count != 4)
            throw new ArgumentException($"{what} has shape {FormatShape(shape)}; an image tensor must be [N,3,H,W] (NCHW) or [N,H,W,3] (NHWC).");

        var layout = options.Layout ?? InferLayout(what, shape);
        int channelDim = layout == ImageLayout.Nchw ? 1 : 3;
        int heightDim = layout == ImageLayout.Nchw ? 2 : 1;
        if (shape[channelDim] != Channels && shape[channelDim] >= 0)
            throw new ArgumentException($"{what} has shape {FormatShape(shape)}: as {layout.ToString().ToUpperInvariant()} it has {shape[channelDim]} channels, and images have " +
                $"3 (RGB). Set Layout if the channels are elsewhere.");

        int height = Side(what, "Height", options.Height, shape[heightDim], shape);
        int width = Side(what, "Width", options.Width, shape[heightDim + 1], shape);
        int resizeTo = options.ResizeTo ?? Math.Max(width, height);
        if (options.Resize == ImageResize.ShorterSideThenCenterCrop && resizeTo <= 0)
            throw new ArgumentException($"{what}: ResizeTo is {resizeTo}; the shorter side must be resized to at least 1 pixel.");
        if (!Enum.IsDefined(options.Resize) || !Enum.IsDefined(options.ChannelOrder) || !Enum.IsDefined(layout) || !Enum.IsDefined(options.GpuJpeg))
            throw new ArgumentException($"{what}: Resize, ChannelOrder, Layout or GpuJpeg has a value that is not one of its named values.");
        if (options.GpuJpegThreads is < 1)
            throw new ArgumentException($"{what}: GpuJpegThreads is {options.GpuJpegThreads}; it must be at least 1, or null for every core.");

        var (scale, bias) = elementType == ImageElementType.UInt8
            ? ([1f, 1f, 1f], [0f, 0f, 0f])
            : AffineMap(what, options);
        return new ImageTensorLayout(tensorName, width, height, layout, options.ChannelOrder, elementType,
            scale, bias, options.Resize, resizeTo, options.ReducedDecode);
    }

    private static ImageLayout InferLayout(string what, IReadOnlyList<long> shape)
    {
        bool nchw = shape[1] == Channels, nhwc = shape[3] == Channels;
        if (nchw && nhwc)
            throw new ArgumentException($"{what} has shape {FormatShape(shape)}, which could be NCHW or NHWC; set Layout to say which.");
        if (nchw)
            return ImageLayout.Nchw;
        if (nhwc)
            return ImageLayout.Nhwc;
        throw new ArgumentException($"{what} has shape {FormatShape(shape)}; an image tensor has 3 channels in dimension 1 (NCHW) or in the last (NHWC). Set Layout if its " +
            $"channel dimension is open.");
    }

    private static int Side(string what, string name, int? asked, long inTensor, IReadOnlyList<long> shape)
    {
        if (asked is { } value)
        {
            if (value <= 0)
                throw new ArgumentException($"{what}: {name} is {value}; it must be at least 1 pixel.");
            if (inTensor >= 0 && inTensor != value)
                throw new ArgumentException($"{what} has shape {FormatShape(shape)}, whose {name.ToLowerInvariant()} is {inTensor}, but the image options ask for {name} " +
                    $"{value}. Leave {name} unset or make it {inTensor}.");
            return value;
        }
        if (inTensor > 0)
            return checked((int)inTensor);
        throw new ArgumentException($"{what} has shape {FormatShape(shape)}, whose {name.ToLowerInvariant()} is open; set {name} in the image options.");
    }

    private static (float[] Scale, float[] Bias) AffineMap(string what, ImageInputOptions options)
    {
        var mean = options.Mean ?? [0f, 0f, 0f];
        var std = options.Std ?? [1f, 1f, 1f];
        if (mean.Length != Channels)
            throw new ArgumentException($"{what}: Mean has {mean.Length} values; give one per channel (3), in the tensor's channel order.");
        if (std.Length != Channels)
            throw new ArgumentException($"{what}: Std has {std.Length} values; give one per channel (3), in the tensor's channel order.");
        if (!float.IsFinite(options.PixelScale) || options.PixelScale == 0)
            throw new ArgumentException($"{what}: PixelScale is {options.PixelScale}; use 1/255 for 0..1 values or 1 for 0..255.");
        var scale = new float[Channels];
        var bias = new float[Channels];
        for (int c = 0; c < Channels; c++)
        {
            if (std[c] == 0 || !float.IsFinite(std[c]))
                throw new ArgumentException($"{what}: Std[{c}] is {std[c]}; every standard deviation must be a finite non-zero number.");
            if (!float.IsFinite(mean[c]))
                throw new ArgumentException($"{what}: Mean[{c}] is {mean[c]}; every mean must be a finite number.");
            scale[c] = options.PixelScale / std[c];
            bias[c] = -mean[c] / std[c];
        }
        return (scale, bias);
    }

    private static string FormatShape(IReadOnlyList<long> shape) =>
        "[" + string.Join(",", shape.Select(d => d >= 0 ? d.ToString(CultureInfo.InvariantCulture) : "?")) + "]";
}
