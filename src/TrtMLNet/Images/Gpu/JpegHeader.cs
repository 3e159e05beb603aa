namespace TrtMLNet.Images.Gpu;

/// <summary>What a look at an encoded image's headers says about decoding it with nvJPEG.</summary>
internal enum JpegHeaderVerdict
{
    /// <summary>An 8-bit Huffman JPEG with 1 (gray) or 3 (YCbCr) components: nvJPEG's to decode.</summary>
    NvJpeg,

    /// <summary>Not a JPEG, or a JPEG nvJPEG would not decode as PIL does: the CPU path decodes it.</summary>
    Cpu,

    /// <summary>A JPEG that ends inside its headers (a cut-short download or copy): nobody can decode it.</summary>
    Truncated,

    /// <summary>A JPEG whose headers are damaged: nobody can decode it.</summary>
    Corrupt,
}

/// <summary>
/// The headers of an encoded image, read up to the first scan without decoding anything: which format,
/// and for a JPEG its frame (SOFn), components and colour transform markers. It decides which images go
/// to nvJPEG and which go back to the CPU path (libjpeg-turbo through SkiaSharp, which reads every JPEG
/// PIL reads, converts CMYK/YCCK as PIL does, and honours an Adobe marker that says the components are RGB).
/// </summary>
internal readonly record struct JpegHeader(JpegHeaderVerdict Verdict, string? Reason, int Width, int Height, int Components, bool Progressive)
{
    /// <summary>Reads the headers of the <paramref name="length"/> bytes at <paramref name="data"/>.</summary>
    public static unsafe JpegHeader Read(IntPtr data, long length) =>
        Read(new ReadOnlySpan<byte>((void*)data, (int)Math.Min(length, int.MaxValue)));

    /// <summary>
    /// The headers' verdict; a JPEG that does not end with its end-of-image marker goes to the CPU, because
    /// nvJPEG decodes a file cut off in its image data without a word (grey or stale blocks where the data
    /// ran out), while libjpeg reports it as truncated.
    /// </summary>
    public static JpegHeader Read(ReadOnlySpan<byte> bytes)
    {
        var header = ReadHeaders(bytes);
        return header.Verdict == JpegHeaderVerdict.NvJpeg && !EndsWithEndOfImage(bytes)
            ? Cpu("it does not end with the JPEG end-of-image marker (FF D9), so it may be cut off; the CPU decoder tells a cut-off file from trailing data")
            : header;
    }

    // Encoders and copies may pad a file with zeros after FF D9.
    private static bool EndsWithEndOfImage(ReadOnlySpan<byte> bytes)
    {
        var end = bytes.Length;
        while (end > 2 && bytes[end - 1] == 0)
            end--;
        return end >= 2 && bytes[end - 2] == 0xFF && bytes[end - 1] == 0xD9;
    }

    private static JpegHeader ReadHeaders(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 3 || bytes[0] != 0xFF || bytes[1] != 0xD8 || bytes[2] != 0xFF)
            return Cpu($"it is not a JPEG ({Format(bytes)})");

        bool jfif = false;
        int adobeTransform = -1;
        int pos = 2;
        JpegHeader? frame = null;
        ReadOnlySpan<byte> componentIds = default;
        while (true)
        {
            // Markers may be preceded by any number of 0xFF fill bytes.
            if (pos >= bytes.Length || bytes[pos] != 0xFF)
                return pos >= bytes.Length
                    ? Truncated("it ends inside its headers, before the image data")
                    : Cpu($"byte {pos} of its headers should start a marker and does not; libjpeg skips such stray bytes, so the CPU decodes it");
            while (pos < bytes.Length && bytes[pos] == 0xFF)
                pos++;
            if (pos >= bytes.Length)
                return Truncated("it ends inside its headers, before the image data");
            byte marker = bytes[pos++];
            if (marker == 0xD8 || marker == 0x01 || marker is >= 0xD0 and <= 0xD7)
                continue; // markers without a length
            if (marker == 0xD9)
                return Damaged("it ends (EOI) before any image data");
            if (pos + 2 > bytes.Length)
                return Truncated("it ends inside its headers, before the image data");
            int segmentLength = bytes[pos] << 8 | bytes[pos + 1];
            if (segmentLength < 2)
                return Damaged($"its marker 0xFF{marker:X2} has an impossible length {segmentLength}");
            if (pos + segmentLength > bytes.Length)
                return Truncated("it ends inside its headers, before the image data");
            var segment = bytes.Slice(pos + 2, segmentLength - 2);
            pos += segmentLength;

            switch (marker)
            {
                case 0xE0 when segment.StartsWith("JFIF\0"u8):
                    jfif = true;
                    break;
                case 0xEE when segment.Length >= 12 && segment.StartsWith("Adobe"u8):
                    adobeTransform = segment[11];
                    break;
                case 0xC0 or 0xC1 or 0xC2:
                    if (segment.Length < 6)
                        return Damaged("its frame header (SOF) is too short");
                    int precision = segment[0];
                    int height = segment[1] << 8 | segment[2], width = segment[3] << 8 | segment[4], components = segment[5];
                    if (segment.Length < 6 + 3 * components)
                        return Damaged("its frame header (SOF) is too short for its components");
                    if (precision != 8)
                        return Cpu($"it has {precision}-bit samples; the GPU decodes 8-bit JPEGs");
                    if (width == 0 || height == 0)
                        return Damaged($"its frame is {width} x {height} pixels");
                    componentIds = segment.Slice(6, 3 * components);
                    frame = new JpegHeader(JpegHeaderVerdict.NvJpeg, null, width, height, components, marker == 0xC2);
                    break;
                case >= 0xC3 and <= 0xCF when marker is not 0xC4 and not 0xC8 and not 0xCC:
                    return Cpu($"it is a {FrameName(marker)} JPEG (SOF 0xFF{marker:X2}); the GPU decodes baseline, extended and progressive Huffman JPEGs");
                case 0xDA:
                    return frame is { } found ? Classify(found, componentIds, jfif, adobeTransform) : Damaged("its image data starts before its frame header (SOF)");
            }
        }
    }

    // libjpeg's rules (jdapimin.c, default_decompress_parms) for what the components are, which PIL follows.
    private static JpegHeader Classify(JpegHeader frame, ReadOnlySpan<byte> ids, bool jfif, int adobeTransform)
    {
        switch (frame.Components)
        {
            case 1:
                return frame;
            case 3:
                bool rgb = !jfif && (adobeTransform == 0 || (adobeTransform < 0 && ids[0] == 'R' && ids[3] == 'G' && ids[6] == 'B'));
                return rgb ? Cpu("its three components are RGB, not YCbCr (Adobe marker or component ids R, G, B); the GPU decoder would treat them as YCbCr") : frame;
            case 4:
                return Cpu(adobeTransform == 2 ? "it is a YCCK JPEG; the CPU converts it as PIL does" : "it is a CMYK JPEG; the CPU converts it as PIL does");
            default:
                return Cpu($"it has {frame.Components} colour components; the GPU decodes gray and YCbCr JPEGs");
        }
    }

    private static JpegHeader Cpu(string reason) => new(JpegHeaderVerdict.Cpu, reason, 0, 0, 0, false);

    private static JpegHeader Truncated(string reason) => new(JpegHeaderVerdict.Truncated, reason, 0, 0, 0, false);

    private static JpegHeader Damaged(string reason) => new(JpegHeaderVerdict.Corrupt, reason, 0, 0, 0, false);

    private static string FrameName(byte marker) => marker switch
    {
        0xC3 or 0xC7 or 0xCB or 0xCF => "lossless",
        0xC5 or 0xC6 or 0xCD or 0xCE => "hierarchical",
        _ => "arithmetic-coded",
    };

    private static ReadOnlySpan<byte> PngSignature => [0x89, (byte)'P', (byte)'N', (byte)'G'];

    private static string Format(ReadOnlySpan<byte> bytes) =>
        bytes.StartsWith(PngSignature) ? "PNG data"
        : bytes.StartsWith("GIF8"u8) ? "GIF data"
        : bytes.StartsWith("BM"u8) ? "BMP data"
        : bytes.Length >= 12 && bytes.StartsWith("RIFF"u8) && bytes.Slice(8, 4).SequenceEqual("WEBP"u8) ? "WebP data"
        : bytes.IsEmpty ? "no bytes" : "an unknown format";
}
