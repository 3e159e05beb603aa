using SkiaSharp;

namespace TrtMLNet.Images;

/// <summary>The sizes one decode went through: the image's own, and the one the decoder produced (smaller with a reduced JPEG decode).</summary>
internal readonly record struct DecodedImage(int SourceWidth, int SourceHeight, int DecodedWidth, int DecodedHeight)
{
    public bool Reduced => DecodedWidth != SourceWidth || DecodedHeight != SourceHeight;
}

/// <summary>
/// Decodes one encoded image (JPEG, PNG, BMP, GIF's first frame, WebP, ICO: what SkiaSharp's codecs read)
/// into one image's slot of a batch, as torchvision does with PIL: <c>Image.open(f).convert("RGB")</c>,
/// the resize and crop of <see cref="ImageTensorLayout.Resize"/> with PIL's antialiased bilinear filter,
/// then the affine map and layout of the tensor. Like PIL, it does not apply EXIF orientation and drops
/// alpha without blending; grayscale becomes R = G = B. Thread-safe: each thread decodes into its own
/// <see cref="DecodeScratch"/>; nothing per image is allocated once a thread's buffers have grown.
/// </summary>
internal sealed unsafe class CpuImageDecoder
{
    /// <summary>
    /// The most pixels decoded for one image: Pillow's decompression-bomb limit (twice its MAX_IMAGE_PIXELS),
    /// past which it refuses an image too. A reduced JPEG decode counts its reduced size.
    /// </summary>
    public const long MaxDecodedPixels = 2L * 89_478_485;

    private const int PixelBytes = 4;

    private readonly ImageTensorLayout _layout;
    private readonly PixelWriter _writer;

    public CpuImageDecoder(ImageTensorLayout layout)
    {
        _layout = layout;
        _writer = new PixelWriter(layout);
    }

    public ImageTensorLayout Layout => _layout;

    /// <summary>
    /// Decodes <paramref name="encoded"/> into <paramref name="destination"/> (exactly one image's
    /// <see cref="ImageTensorLayout.RowBytes"/>). Throws <see cref="ImageDecodeException"/> naming
    /// <paramref name="source"/> when the bytes are not a whole, decodable image.
    /// </summary>
    public DecodedImage Decode(ReadOnlySpan<byte> encoded, string source, Span<byte> destination)
    {
        if (destination.Length != _layout.RowBytes)
            throw new ArgumentException($"An image of '{_layout.TensorName}' takes {_layout.RowBytes} bytes; the destination has {destination.Length}.", nameof(destination));
        if (encoded.IsEmpty)
            throw new ImageDecodeException(source, ImageDecodeFailure.Empty, "it is empty (0 bytes). Replace it with the image it should hold.");

        fixed (byte* bytes = encoded)
        {
            // SKData wraps the caller's bytes without copying them; it and the codec die inside the fixed block.
            using var data = SKData.Create((IntPtr)bytes, encoded.Length);
            using var codec = SKCodec.Create(data) ?? throw Unrecognised(encoded, source);
            var scratch = DecodeScratch.ForThisThread;
            int sourceWidth = codec.Info.Width, sourceHeight = codec.Info.Height;
            var geometry = Geometry(sourceWidth, sourceHeight, source);
            var decodedSize = DecodeSize(codec, geometry);
            var pixels = DecodePixels(codec, ref decodedSize, source, encoded.Length, scratch);

            var plan = Plan(scratch, decodedSize, geometry);
            var intermediate = scratch.Intermediate(plan.IntermediateBytes);
            var resampled = scratch.Resampled(_layout.Width * _layout.Height * PixelBytes);
            PilResampler.Resample(pixels, decodedSize.Width, decodedSize.Height, plan, intermediate, resampled);
            _writer.Write(resampled, destination);
            return new DecodedImage(sourceWidth, sourceHeight, decodedSize.Width, decodedSize.Height);
        }
    }

    private ImageGeometry Geometry(int sourceWidth, int sourceHeight, string source)
    {
        try
        {
            return _layout.GeometryFor(sourceWidth, sourceHeight);
        }
        catch (ArgumentException e)
        {
            // Only a shape the resize cannot take (such as a sliver whose longer side would overflow): that image's problem.
            throw new ImageDecodeException(source, ImageDecodeFailure.Unsupported, e.Message, e);
        }
    }

    /// <summary>
    /// The size to decode at: a JPEG may be decoded at 1/8, 1/4 or 1/2 of its size by DCT scaling, and the
    /// largest reduction whose result is still at least the resized size is taken (never an upscale).
    /// </summary>
    private SKSizeI DecodeSize(SKCodec codec, ImageGeometry geometry)
    {
        var full = codec.Info.Size;
        if (!_layout.ReducedDecode || codec.EncodedFormat != SKEncodedImageFormat.Jpeg)
            return full;
        foreach (float scale in (ReadOnlySpan<float>)[1f / 8, 1f / 4, 1f / 2])
        {
            var size = codec.GetScaledDimensions(scale);
            if (size.Width >= geometry.ResizedWidth && size.Height >= geometry.ResizedHeight && size != full)
                return size;
        }
        return full;
    }

    private static byte[] DecodePixels(SKCodec codec, ref SKSizeI size, string source, int encodedBytes, DecodeScratch scratch)
    {
        if ((long)size.Width * size.Height > MaxDecodedPixels)
            throw new ImageDecodeException(source, ImageDecodeFailure.Unsupported,
                $"it is {size.Width} x {size.Height} pixels, more than the {MaxDecodedPixels / 1_000_000} million this decoder accepts for one image (Pillow's " +
                    $"decompression-bomb limit). Downscale it first.");
        var pixels = scratch.Pixels(size.Width * size.Height * PixelBytes + PilResampler.SourceSlackBytes);
        // Unpremultiplied RGBA and no colour space: the stored colour values as they are, as PIL reads them.
        var info = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        SKCodecResult result;
        fixed (byte* destination = pixels)
            result = codec.GetPixels(info, (IntPtr)destination);
        if (result == SKCodecResult.InvalidScale && size != codec.Info.Size)
        {
            // A scale the codec offered and then refused: decode at full size rather than fail the image.
            size = codec.Info.Size;
            return DecodePixels(codec, ref size, source, encodedBytes, scratch);
        }
        if (result != SKCodecResult.Success)
            throw Failed(result, codec.EncodedFormat, source, encodedBytes);
        return pixels;
    }

    private static ResamplePlan Plan(DecodeScratch scratch, SKSizeI decoded, ImageGeometry geometry)
    {
        var key = new PlanKey(decoded.Width, decoded.Height, geometry);
        if (scratch.LastPlan is { } last && last.Key == key)
            return last.Plan;
        var plan = ResamplePlan.Create(decoded.Width, decoded.Height, geometry);
        scratch.LastPlan = (key, plan);
        return plan;
    }

    private static ImageDecodeException Unrecognised(ReadOnlySpan<byte> encoded, string source)
    {
        if (EncodedImageKind.DecodableFormat(encoded) is { } format)
            return new ImageDecodeException(source, ImageDecodeFailure.Corrupt,
                $"it starts as a {format} but its header is damaged or cut off ({encoded.Length} bytes). Re-export or re-download it.");
        return new ImageDecodeException(source, ImageDecodeFailure.NotAnImage, $"it is {EncodedImageKind.Describe(encoded)}.");
    }

    private static ImageDecodeException Failed(SKCodecResult result, SKEncodedImageFormat encodedFormat, string source, int encodedBytes)
    {
        string format = encodedFormat == SKEncodedImageFormat.Webp ? "WebP" : encodedFormat.ToString().ToUpperInvariant();
        return Failed(result, format, source, encodedBytes);
    }

    private static ImageDecodeException Failed(SKCodecResult result, string format, string source, int encodedBytes) => result switch
    {
        SKCodecResult.IncompleteInput => new ImageDecodeException(source, ImageDecodeFailure.Truncated,
            $"the {format} ends before its last pixels (it has {encodedBytes} bytes): it was cut off, as by an interrupted download or copy. Replace it with a complete copy."),
        SKCodecResult.ErrorInInput or SKCodecResult.InvalidInput => new ImageDecodeException(source, ImageDecodeFailure.Corrupt,
            $"the {format} data is damaged (the decoder stopped at an error in it). Re-export or re-download it."),
        SKCodecResult.InvalidConversion or SKCodecResult.Unimplemented => new ImageDecodeException(source, ImageDecodeFailure.Unsupported,
            $"this {format} uses a pixel format or feature the decoder cannot turn into RGB ({result}). Convert it to an 8-bit RGB JPEG or PNG."),
        _ => new ImageDecodeException(source, ImageDecodeFailure.Corrupt,
            $"the decoder could not decode this {format} ({result}). Re-export it as JPEG or PNG."),
    };
}
