using System.Runtime.CompilerServices;

namespace TrtMLNet.Native.NvJpeg;

/// <summary>nvjpegBackend_t values TrtMLNet passes.</summary>
internal enum NvJpegBackend
{
    Default = 0,
    Hybrid = 1,
    GpuHybrid = 2,

    /// <summary>The JPEG decoding engine of A100, H100, H200 and later: baseline JPEGs, batched API only.</summary>
    Hardware = 3,
}

/// <summary>nvjpegOutputFormat_t values TrtMLNet passes.</summary>
internal enum NvJpegOutputFormat
{
    /// <summary>Interleaved RGB in channel[0]; a grayscale JPEG comes out with its luma in all three.</summary>
    Rgbi = 5,
}

/// <summary>nvjpegChromaSubsampling_t.</summary>
internal enum NvJpegChromaSubsampling
{
    Css444 = 0,
    Css422 = 1,
    Css420 = 2,
    Css440 = 3,
    Css411 = 4,
    Css410 = 5,
    Gray = 6,
    Css410V = 7,
    Unknown = -1,
}

/// <summary>libraryPropertyType (library_types.h), for nvjpegGetProperty.</summary>
internal enum LibraryProperty
{
    MajorVersion = 0,
    MinorVersion = 1,
    PatchLevel = 2,
}

/// <summary>
/// nvjpegImage_t: <c>unsigned char* channel[4]; size_t pitch[4];</c> (64 bytes on 64-bit, pitch at 32;
/// tests/TrtMLNet.Tests/native/NvJpegAbi checks this against the header). For RGBI output only
/// channel[0] and pitch[0] are used; nvJPEG leaves the others untouched.
/// </summary>
internal struct NvJpegImage
{
    public FourPointers Channel;
    public FourSizes Pitch;

    public const int MaxComponents = 4;

    public static NvJpegImage Interleaved(IntPtr pixels, long pitch)
    {
        var image = default(NvJpegImage);
        image.Channel[0] = pixels;
        image.Pitch[0] = (nuint)pitch;
        return image;
    }

    [InlineArray(MaxComponents)]
    public struct FourPointers
    {
        private IntPtr _element;
    }

    [InlineArray(MaxComponents)]
    public struct FourSizes
    {
        private nuint _element;
    }
}
