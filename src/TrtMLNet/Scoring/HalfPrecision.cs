using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace TrtMLNet.Scoring;

/// <summary>
/// float16 and bfloat16 tensors from and to float columns (ML.NET has no half type), converted in
/// staging: half the bytes cross PCIe, and the CPU converts faster than it copies (vectorised F16C for
/// float16). Conversions are IEEE: a float beyond float16's range becomes infinity, as in PyTorch's half().
/// </summary>
internal static class HalfPrecision
{
    public static void FromSingle(ReadOnlySpan<float> source, Span<byte> destination, TensorElementType type)
    {
        if (type == TensorElementType.Float16)
        {
            TensorPrimitives.ConvertToHalf(source, MemoryMarshal.Cast<byte, Half>(destination));
            return;
        }
        var bits = MemoryMarshal.Cast<byte, ushort>(destination);
        for (var i = 0; i < source.Length; i++)
            bits[i] = ToBFloat16(source[i]);
    }

    public static void ToSingle(ReadOnlySpan<byte> source, Span<float> destination, TensorElementType type)
    {
        if (type == TensorElementType.Float16)
        {
            TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(source), destination);
            return;
        }
        var bits = MemoryMarshal.Cast<byte, ushort>(source);
        for (var i = 0; i < destination.Length; i++)
            destination[i] = BitConverter.UInt32BitsToSingle((uint)bits[i] << 16);
    }

    /// <summary>The upper 16 bits rounded to nearest even; NaN stays a NaN.</summary>
    public static ushort ToBFloat16(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
            return (ushort)((bits >> 16) | 0x0040);
        return (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }
}
