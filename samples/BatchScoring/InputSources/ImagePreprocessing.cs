using System.Globalization;
using TrtMLNet;

namespace BatchScoring.InputSources;

/// <summary>
/// How the job's image options become TrtMLNet's <see cref="ImageInputOptions"/> for the model's image tensor.
/// Two ways to say how pixels become values, never mixed on one command line:
/// <list type="bullet">
/// <item>torchvision's (--preset, --mean, --std): pixels scaled to 0..1, then (v - mean) / std per channel,
/// given in R, G, B order as torchvision writes them;</item>
/// <item>ML.NET's ExtractPixels (--pixel-offset, --pixel-scale): (pixel + offset) x scale on 0..255.</item>
/// </list>
/// Geometry: --resize N (shorter side to N, keeping the aspect ratio) then a center crop to the model's size
/// (or --crop); without --resize or --crop the whole image is stretched to the model's size (or --image-size).
/// </summary>
public static class ImagePreprocessing
{
    public const int DefaultImageSize = 224;
    private const double ImageNetResizeRatio = 256.0 / 224.0;

    /// <summary>The options for <paramref name="tensor"/>, and the line that describes them in the plan.</summary>
    public static (ImageInputOptions Options, string Description) For(JobOptions options, TensorSignature tensor, bool channelsLast, int modelHeight, int modelWidth)
    {
        var torchvision = options.Preset is not null || options.Mean is not null || options.Std is not null;
        if (torchvision && (options.PixelOffset != 0 || options.PixelScale != 1))
            throw new UsageException("--pixel-offset and --pixel-scale describe ML.NET's pixel extraction (0..255); --preset, --mean and --std describe torchvision's (0..1). Use one of the two.");
        var imageNet = options.Preset == ImagePreset.ImageNet;
        var crop = options.Crop ?? options.ImageSize;
        if (options.Crop is not null && options.ImageSize is not null && options.Crop != options.ImageSize)
            throw new UsageException($"--crop {options.Crop} and --image-size {options.ImageSize} ask for two sizes: pass one of them.");

        var height = Size(modelHeight, crop, tensor, "height");
        var width = Size(modelWidth, crop, tensor, "width");
        // The preset keeps ImageNet's ratio of 256 to 224 for other crop sizes, as torchvision's recipes do.
        var resize = options.Resize ?? (imageNet ? (int)Math.Round(Math.Max(height, width) * ImageNetResizeRatio) : null);
        var cropped = resize is not null || options.Crop is not null;
        if (resize is { } r && r < Math.Min(height, width))
            throw new UsageException($"--resize {r} makes the shorter side smaller than the {width}x{height} crop; the crop would be padded with zeros. Pick --resize {Math.Max(height, width)} or more.");

        var image = new ImageInputOptions
        {
            Column = ImageFolderInput.PathColumn,
            Resize = cropped ? ImageResize.ShorterSideThenCenterCrop : ImageResize.Stretch,
            ResizeTo = cropped ? resize : null,
            Width = width,
            Height = height,
            ChannelOrder = options.Bgr ? ImageChannelOrder.Bgr : ImageChannelOrder.Rgb,
            Layout = channelsLast ? ImageLayout.Nhwc : ImageLayout.Nchw,
            // The job reports bad images itself (skipped or stopping, as --bad-rows says) and never writes their rows.
            OnBadImage = BadImagePolicy.Skip,
            Decoder = options.Decoder,
            GpuJpeg = options.GpuJpeg,
            GpuJpegThreads = options.GpuJpegThreads,
        };
        string values;
        if (tensor.ElementType == typeof(byte))
        {
            if (torchvision || options.PixelOffset != 0 || options.PixelScale != 1)
                throw new UsageException($"The model's input {tensor} takes uint8 pixels as they are; it has no room for --preset, --mean, --std, --pixel-offset or --pixel-scale.");
            values = "values 0..255";
        }
        else if (torchvision)
        {
            // Given in R, G, B order; the tensor takes them in its own channel order.
            image.Mean = InTensorOrder(options.Mean ?? (imageNet ? ImageInputOptions.ImageNetMean : [0f, 0f, 0f]), options.Bgr);
            image.Std = InTensorOrder(options.Std ?? (imageNet ? ImageInputOptions.ImageNetStd : [1f, 1f, 1f]), options.Bgr);
            values = $"(p/255 - mean {Triple(image.Mean)}) / std {Triple(image.Std)}";
        }
        else
        {
            // (p + offset) x scale = p x scale - mean, with mean = -offset x scale: ExtractPixels' formula.
            image.PixelScale = options.PixelScale;
            var mean = -options.PixelOffset * options.PixelScale;
            image.Mean = [mean, mean, mean];
            values = options.PixelOffset != 0 || options.PixelScale != 1
                ? $"(p {(options.PixelOffset < 0 ? "-" : "+")} {Math.Abs(options.PixelOffset)}) x {options.PixelScale}"
                : "values 0..255";
        }
        var geometry = cropped
            ? $"shorter side to {resize?.ToString(CultureInfo.InvariantCulture) ?? Math.Max(width, height).ToString(CultureInfo.InvariantCulture)}, center crop {width}x{height}"
            : $"stretched to {width}x{height}";
        var description = $"{geometry} (antialiased bilinear), {(options.Bgr ? "BGR" : "RGB")} {(channelsLast ? "HWC" : "CHW")}, {values}; decoder {options.Decoder.ToString().ToLowerInvariant()}" +
            (options.Decoder == ImageDecoderKind.Cpu ? "" : $", GPU JPEG decoding {options.GpuJpeg.ToString().ToLowerInvariant()}");
        return (image, description);
    }

    private static int Size(int modelSize, int? asked, TensorSignature tensor, string what)
    {
        if (modelSize > 0 && asked is { } a && a != modelSize)
            throw new UsageException($"The model's input {tensor} fixes the image {what} at {modelSize}; --crop or --image-size {a} does not fit it.");
        return modelSize > 0 ? modelSize : asked ?? DefaultImageSize;
    }

    private static float[] InTensorOrder(float[] rgb, bool bgr) => bgr ? [rgb[2], rgb[1], rgb[0]] : rgb;

    private static string Triple(float[] v) => string.Join(",", v.Select(x => x.ToString("0.###", CultureInfo.InvariantCulture)));
}

/// <summary>Named preprocessing, as torchvision's model cards give it.</summary>
public enum ImagePreset
{
    /// <summary>Resize(256), CenterCrop(224), ToTensor, Normalize(ImageNet mean and std).</summary>
    ImageNet,
}
