using System.Runtime.InteropServices;

namespace TrtMLNet.Images.Gpu;

/// <summary>
/// One image's work for the resize kernels: resize_kernels.cu's <c>struct ResizeJob</c>, field for field
/// (its static assertions state these offsets; ResizeJobLayoutTests checks both sides against each other).
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = Size)]
internal struct ResizeJob
{
    public const int Size = 64;

    /// <summary>Device pointer to the decoded RGBI pixels.</summary>
    [FieldOffset(0)] public long Source;

    /// <summary>Device pointer to this image's intermediate rows (<see cref="RowCount"/> x output width x 3 bytes).</summary>
    [FieldOffset(8)] public long Intermediate;

    [FieldOffset(16)] public long SourcePitch;

    /// <summary>Bytes from the output's start to this image's row of the batch.</summary>
    [FieldOffset(24)] public long OutputOffset;

    [FieldOffset(32)] public int SourceWidth;
    [FieldOffset(36)] public int SourceHeight;

    /// <summary>The first source row the vertical taps read; intermediate row 0.</summary>
    [FieldOffset(40)] public int RowStart;

    /// <summary>How many source rows the vertical taps read.</summary>
    [FieldOffset(44)] public int RowCount;

    /// <summary>Offset, in ints, of the horizontal table in the tables.</summary>
    [FieldOffset(48)] public int HorizontalTaps;
    [FieldOffset(52)] public int HorizontalMaxTaps;
    [FieldOffset(56)] public int VerticalTaps;
    [FieldOffset(60)] public int VerticalMaxTaps;
}
