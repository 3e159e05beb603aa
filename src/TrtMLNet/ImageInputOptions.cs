namespace TrtMLNet;

/// <summary>
/// How a column of images feeds an image tensor of the model: where the images come from, how they are
/// resized and cropped, and how pixels become tensor values. The images are decoded while a batch is
/// filled, on every core, straight into the batch's staging memory.
/// </summary>
/// <remarks>
/// The defaults reproduce torchvision's <c>Resize</c> + <c>ToTensor</c> on a PIL image (bilinear,
/// antialiased, values 0..1); <see cref="ImageNet"/> adds the usual <c>CenterCrop</c> and <c>Normalize</c>.
/// Plain settable properties and enums so the options save as JSON inside a saved model.
/// </remarks>
public sealed class ImageInputOptions
{
    /// <summary>
    /// The column holding the images: text (a file path per row) or a vector of bytes (an encoded image per
    /// row: JPEG, PNG, BMP, GIF (first frame), WebP). Null means the column named as the tensor.
    /// </summary>
    public string? Column { get; set; }

    /// <summary>
    /// The folder that relative paths in <see cref="Column"/> resolve against; null resolves them against the
    /// current directory. It is saved with the model, as ML.NET's <c>LoadImages</c> saves its folder.
    /// </summary>
    public string? ImageFolder { get; set; }

    /// <summary>How the image is brought to the tensor's size. Default <see cref="ImageResize.Stretch"/>.</summary>
    public ImageResize Resize { get; set; } = ImageResize.Stretch;

    /// <summary>
    /// For <see cref="ImageResize.ShorterSideThenCenterCrop"/>: the length of the shorter side after resizing
    /// (torchvision's <c>Resize(N)</c>), before the <see cref="Width"/> x <see cref="Height"/> center crop.
    /// Null means the larger of the crop's width and height, so the crop only trims the longer side.
    /// Not used with <see cref="ImageResize.Stretch"/>.
    /// </summary>
    public int? ResizeTo { get; set; }

    /// <summary>The width of the image in the tensor. Null takes the tensor's; needed when the tensor's width is open.</summary>
    public int? Width { get; set; }

    /// <summary>The height of the image in the tensor. Null takes the tensor's; needed when the tensor's height is open.</summary>
    public int? Height { get; set; }

    /// <summary>
    /// Per-channel mean subtracted after scaling, on the scale of the scaled pixels (0..1 with the default
    /// <see cref="PixelScale"/>, as torchvision's <c>Normalize</c>), in the order of the tensor's channels (so
    /// after <see cref="ChannelOrder"/>: B, G, R for <see cref="ImageChannelOrder.Bgr"/>). Three values, or
    /// null for none (0).
    /// </summary>
    public float[]? Mean { get; set; }

    /// <summary>
    /// Per-channel standard deviation the centred values are divided by, same scale and order as
    /// <see cref="Mean"/>. Three non-zero values, or null for none (1).
    /// </summary>
    public float[]? Std { get; set; }

    /// <summary>The order of the colour channels in the tensor. Default <see cref="ImageChannelOrder.Rgb"/>.</summary>
    public ImageChannelOrder ChannelOrder { get; set; } = ImageChannelOrder.Rgb;

    /// <summary>
    /// Where the channels are in the tensor. Null reads it from the tensor's shape: 3 in dimension 1 is
    /// <see cref="ImageLayout.Nchw"/>, 3 in the last is <see cref="ImageLayout.Nhwc"/>.
    /// </summary>
    public ImageLayout? Layout { get; set; }

    /// <summary>
    /// What a pixel (0..255) is multiplied by before <see cref="Mean"/> and <see cref="Std"/> apply, for float
    /// and float16 tensors. Default 1/255, torchvision's <c>ToTensor</c>; 1 keeps 0..255. A uint8 tensor always
    /// takes the raw pixels, with no scale, mean or std.
    /// </summary>
    public float PixelScale { get; set; } = DefaultPixelScale;

    /// <summary>
    /// Let the JPEG decoder decode at 1/2, 1/4 or 1/8 of the size (DCT scaling) when the image is resized to
    /// at most that; much faster on large photos. The values differ slightly from a full decode (the
    /// decoder's own downscaling replaces part of the resampling filter). Default true; false gives exactly
    /// PIL's pixels from a full decode.
    /// </summary>
    public bool ReducedDecode { get; set; } = true;

    /// <summary>What a row whose image cannot be read or decoded does. Default <see cref="BadImagePolicy.Fail"/>.</summary>
    public BadImagePolicy OnBadImage { get; set; } = BadImagePolicy.Fail;

    /// <summary>Which decoder decodes the images. Default <see cref="ImageDecoderKind.Auto"/>.</summary>
    public ImageDecoderKind Decoder { get; set; } = ImageDecoderKind.Auto;

    /// <summary>How nvJPEG decodes the JPEGs when they decode on the GPU. Default <see cref="GpuJpegDecoding.Auto"/>.</summary>
    public GpuJpegDecoding GpuJpeg { get; set; } = GpuJpegDecoding.Auto;

    /// <summary>
    /// Host threads each lane's hybrid nvJPEG decoder works on at most (Huffman decoding on the CPU); null means
    /// every core. Each thread holds two decoding slots whose pinned and device buffers grow to the largest
    /// image it has decoded: by estimate (a 4:2:0 JPEG's DCT coefficients, 2 bytes each; not measured) about 3
    /// bytes per pixel each, 0.6 MB for a 500 x 375 photo and 36 MB for 12 megapixels. Lower it for large
    /// photos on many cores.
    /// </summary>
    public int? GpuJpegThreads { get; set; }

    /// <summary>The fewest cores on which <see cref="GpuJpegDecoding.Auto"/> chooses the hybrid decoder.</summary>
    public const int HybridMinCores = 8;

    /// <summary>The default of <see cref="PixelScale"/>: 1/255, so pixels become 0..1 as torchvision's <c>ToTensor</c> makes them.</summary>
    public const float DefaultPixelScale = 1f / 255f;

    /// <summary>The ImageNet channel means torchvision's models are trained with (R, G, B, on 0..1).</summary>
    public static float[] ImageNetMean => [0.485f, 0.456f, 0.406f];

    /// <summary>The ImageNet channel standard deviations torchvision's models are trained with (R, G, B, on 0..1).</summary>
    public static float[] ImageNetStd => [0.229f, 0.224f, 0.225f];

    /// <summary>
    /// torchvision's ImageNet evaluation transform: <c>Resize(256)</c>, <c>CenterCrop(224)</c>, <c>ToTensor()</c>,
    /// <c>Normalize(ImageNetMean, ImageNetStd)</c>, RGB.
    /// </summary>
    /// <param name="column">The image column; null means the column named as the tensor.</param>
    public static ImageInputOptions ImageNet(string? column = null) => new()
    {
        Column = column,
        Resize = ImageResize.ShorterSideThenCenterCrop,
        ResizeTo = 256,
        Width = 224,
        Height = 224,
        Mean = ImageNetMean,
        Std = ImageNetStd,
    };

    /// <summary>A copy that decodes with <paramref name="decoder"/>; this one is left as it is.</summary>
    internal ImageInputOptions DecodedOn(ImageDecoderKind decoder)
    {
        var copy = (ImageInputOptions)MemberwiseClone();
        copy.Decoder = decoder;
        return copy;
    }
}

/// <summary>How an image is brought to the tensor's width and height. Both resample with PIL's antialiased bilinear filter.</summary>
public enum ImageResize
{
    /// <summary>
    /// Resize the whole image to the tensor's width x height, not keeping its aspect ratio (ML.NET's
    /// <c>ResizeImages</c> default, torchvision's <c>Resize((h, w))</c>).
    /// </summary>
    Stretch = 0,

    /// <summary>
    /// torchvision's <c>Resize(N)</c> then <c>CenterCrop((h, w))</c>: the shorter side becomes
    /// <see cref="ImageInputOptions.ResizeTo"/>, keeping the aspect ratio, then the center is cut out
    /// (padded with zeros where the crop is larger than the resized image, as torchvision does).
    /// </summary>
    ShorterSideThenCenterCrop,
}

/// <summary>The order of the colour channels in the tensor.</summary>
public enum ImageChannelOrder
{
    /// <summary>Red, green, blue (torchvision, most ONNX exports).</summary>
    Rgb = 0,

    /// <summary>Blue, green, red (Caffe and OpenCV-trained models).</summary>
    Bgr,
}

/// <summary>Where the channel dimension of an image tensor is.</summary>
public enum ImageLayout
{
    /// <summary>[batch, channels, height, width]: PyTorch's layout.</summary>
    Nchw = 0,

    /// <summary>[batch, height, width, channels]: TensorFlow's layout.</summary>
    Nhwc,
}

/// <summary>What a row whose image cannot be read or decoded does.</summary>
public enum BadImagePolicy
{
    /// <summary>Stop with an <see cref="ImageDecodeException"/> naming the image and what is wrong with it.</summary>
    Fail = 0,

    /// <summary>
    /// Go on: the row's image slot is filled with zeros instead, and the row is reported (its number, where
    /// the image came from and why it failed) so it can be counted and listed.
    /// </summary>
    Skip,
}

/// <summary>Which decoder turns the encoded images into pixels.</summary>
public enum ImageDecoderKind
{
    /// <summary>The GPU decoder (nvJPEG) for JPEGs where the model runs on a GPU that has it, the CPU otherwise.</summary>
    Auto = 0,

    /// <summary>SkiaSharp on every CPU core.</summary>
    Cpu,

    /// <summary>nvJPEG on the GPU; an error where it is not available.</summary>
    Gpu,
}

/// <summary>
/// How nvJPEG decodes JPEGs on the GPU. The two ways differ in what they hold while they decode: the hardware
/// engine's batched call returns only once all other work on the GPU is done, so lanes take turns and the
/// decode adds to every batch's time; the hybrid decoder waits for nothing, so it overlaps the engine, but it
/// needs CPU cores. Both give pixels within a few levels of the CPU path's.
/// </summary>
public enum GpuJpegDecoding
{
    /// <summary>
    /// <see cref="Hybrid"/> on a machine of at least <see cref="ImageInputOptions.HybridMinCores"/> cores,
    /// <see cref="HardwareEngine"/> on a smaller one.
    /// </summary>
    Auto = 0,

    /// <summary>
    /// The GPU's hardware JPEG decoder (A100, H100, H200 and later) for the baseline JPEGs it takes, the rest
    /// as <see cref="Hybrid"/>; on a GPU without one, <see cref="Hybrid"/>. Few CPU cores needed.
    /// </summary>
    HardwareEngine,

    /// <summary>
    /// nvJPEG's hybrid decoder: Huffman decoding on every CPU core, the rest (IDCT, colour conversion) as
    /// kernels on the GPU, beside the engine.
    /// </summary>
    Hybrid,
}
