using System.Text;

namespace TrtMLNet.Images;

/// <summary>
/// What the first bytes of a file say it is, for error messages only (the decoder decides what it can
/// decode): a format the decoder knows whose header is damaged is a different problem, with a different
/// fix, from a PDF or a text file in an image column.
/// </summary>
internal static class EncodedImageKind
{
    /// <summary>The name of a format the decoder reads, when the bytes start with its signature; else null.</summary>
    public static string? DecodableFormat(ReadOnlySpan<byte> bytes) =>
        bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]) ? "JPEG"
        : bytes.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47]) ? "PNG"
        : bytes.StartsWith("GIF8"u8) ? "GIF"
        : bytes.StartsWith("BM"u8) ? "BMP"
        : bytes.Length >= 12 && bytes.StartsWith("RIFF"u8) && bytes.Slice(8, 4).SequenceEqual("WEBP"u8) ? "WebP"
        : null;

    /// <summary>What the bytes look like when they are not a format the decoder reads: a phrase for a message.</summary>
    public static string Describe(ReadOnlySpan<byte> bytes)
    {
        if (bytes.StartsWith("II*\0"u8) || bytes.StartsWith("MM\0*"u8))
            return "a TIFF image, which this decoder does not read (convert it to PNG or JPEG)";
        if (bytes.Length >= 12 && bytes.Slice(4, 4).SequenceEqual("ftyp"u8))
        {
            var brand = bytes.Slice(8, 4);
            if (brand.SequenceEqual("avif"u8) || brand.SequenceEqual("heic"u8) || brand.SequenceEqual("heix"u8) || brand.SequenceEqual("mif1"u8))
                return "a HEIF/AVIF image, which this decoder does not read (convert it to JPEG or PNG)";
            return "an MP4/QuickTime-family file, not an image";
        }
        if (bytes.StartsWith("%PDF"u8))
            return "a PDF document, not an image";
        if (LooksLikeText(bytes))
            return $"text (it starts with \"{Preview(bytes)}\"), not an image (does the column hold something other than images or their paths?)";
        return $"not an image in a format this decoder reads (JPEG, PNG, BMP, GIF, WebP, ICO); it starts with bytes {Convert.ToHexString(bytes[..Math.Min(8, bytes.Length)])}";
    }

    private static bool LooksLikeText(ReadOnlySpan<byte> bytes)
    {
        var head = bytes[..Math.Min(bytes.Length, 512)];
        foreach (byte b in head)
        {
            if (b < 0x09 || (b > 0x0D && b < 0x20) || b == 0x7F)
                return false;
        }
        return System.Text.Unicode.Utf8.IsValid(head) || head.Length == 512; // a cut multi-byte sequence at 512 is still text
    }

    private static string Preview(ReadOnlySpan<byte> bytes)
    {
        var text = Encoding.UTF8.GetString(bytes[..Math.Min(bytes.Length, 40)]);
        text = new string(text.Select(ch => char.IsControl(ch) ? ' ' : ch).ToArray()).Trim();
        return bytes.Length > 40 ? text + "..." : text;
    }
}
