using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace TrtMLNet.Onnx;

/// <summary>The reduced float types a model can be rewritten to.</summary>
internal enum ReducedPrecision
{
    Float16,
    BFloat16,
}

/// <summary>
/// float32 to float16/bfloat16 bits, and float32 tensors to reduced ones. Finite values stay finite and
/// non-zero values stay non-zero: a magnitude beyond the target's largest finite value becomes that value,
/// one below its smallest subnormal becomes that subnormal (sign kept). ONNX Runtime's float16 converter
/// does the same for the same reason (onnxruntime/python/tools/transformers/float16.py,
/// convert_np_to_float16): attention masks of -3.4e38 would otherwise turn into -inf and softmax into
/// NaN, and epsilons of 1e-12 into 0.
/// </summary>
internal static class ReducedFloat
{
    public static OnnxDataType DataType(this ReducedPrecision precision) =>
        precision == ReducedPrecision.Float16 ? OnnxDataType.Float16 : OnnxDataType.BFloat16;

    public static string ShortName(this ReducedPrecision precision) => precision == ReducedPrecision.Float16 ? "fp16" : "bf16";

    /// <summary>IEEE half, rounded to nearest even by the runtime's conversion.</summary>
    public static ushort ToFloat16Bits(float value, out bool clamped)
    {
        var bits = BitConverter.HalfToUInt16Bits((Half)value);
        return Clamp(bits, value, maxFinite: 0x7BFF, infinity: 0x7C00, out clamped);
    }

    /// <summary>The upper 16 bits of the float, rounded to nearest even; NaN stays a (quiet) NaN.</summary>
    public static ushort ToBFloat16Bits(float value, out bool clamped)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            clamped = false;
            return (ushort)((bits >> 16) | 0x0040);
        }
        var rounded = (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
        return Clamp(rounded, value, maxFinite: 0x7F7F, infinity: 0x7F80, out clamped);
    }

    private static ushort Clamp(ushort bits, float value, ushort maxFinite, ushort infinity, out bool clamped)
    {
        var sign = (ushort)(bits & 0x8000);
        var magnitude = bits & 0x7FFF;
        clamped = true;
        if (magnitude == infinity && float.IsFinite(value))
            return (ushort)(sign | maxFinite);
        if (magnitude == 0 && value != 0)
            return (ushort)(sign | 1);
        clamped = false;
        return bits;
    }

    /// <summary>
    /// Whether a float32 tensor holds a finite value the reduced type cannot hold (it would round to
    /// infinity), other than float32's own extremes: exporters write ±3.4028235e38 (torch.finfo(float32).min)
    /// for "minus infinity" in attention masks, where the reduced type's largest value means the same.
    /// </summary>
    public static bool HasValuesOutOfRange(TensorProto tensor, ReducedPrecision precision)
    {
        var limit = precision == ReducedPrecision.Float16 ? 65520f : BitConverter.UInt32BitsToSingle(0x7F7F8000);
        var values = tensor.RawData is { } raw ? Floats(raw.Span) : CollectionsMarshal.AsSpan(tensor.FloatData);
        foreach (var value in values)
        {
            var magnitude = Math.Abs(value);
            if (magnitude >= limit && magnitude != float.MaxValue && float.IsFinite(value))
                return true;
        }
        return false;
    }

    /// <summary>Little-endian float32 bytes as floats (ONNX's raw_data is little-endian, as are the machines .NET runs on here).</summary>
    private static ReadOnlySpan<float> Floats(ReadOnlySpan<byte> raw) =>
        BitConverter.IsLittleEndian ? MemoryMarshal.Cast<byte, float>(raw[..(raw.Length / 4 * 4)])
            : throw new PlatformNotSupportedException("The ONNX precision rewrite runs on little-endian machines only.");

    public static ushort ToBits(float value, ReducedPrecision precision, out bool clamped) =>
        precision == ReducedPrecision.Float16 ? ToFloat16Bits(value, out clamped) : ToBFloat16Bits(value, out clamped);

    /// <summary>The runtime's vectorised conversion (round to nearest even), then the clamps where it gave infinity or zero.</summary>
    private static long ToFloat16(ReadOnlySpan<float> values, Span<ushort> bits)
    {
        TensorPrimitives.ConvertToHalf(values, MemoryMarshal.Cast<ushort, Half>(bits));
        long clampedCount = 0;
        for (var i = 0; i < bits.Length; i++)
        {
            var magnitude = bits[i] & 0x7FFF;
            if (magnitude is 0 or 0x7C00)
            {
                bits[i] = Clamp(bits[i], values[i], maxFinite: 0x7BFF, infinity: 0x7C00, out var clamped);
                clampedCount += clamped ? 1 : 0;
            }
        }
        return clampedCount;
    }

    private static long ToBFloat16(ReadOnlySpan<float> values, Span<ushort> bits)
    {
        long clampedCount = 0;
        for (var i = 0; i < values.Length; i++)
        {
            bits[i] = ToBFloat16Bits(values[i], out var clamped);
            clampedCount += clamped ? 1 : 0;
        }
        return clampedCount;
    }

    /// <summary>
    /// Makes a float32 tensor a reduced one in place, its values in raw_data, two little-endian bytes
    /// each. Values given in float_data move to raw_data too: onnx.proto would also take them as int32_data
    /// (one varint per 16-bit value), but that takes up to three bytes a value, and every reader takes
    /// raw_data. Returns how many values were clamped.
    /// </summary>
    public static long ConvertTensor(TensorProto tensor, ReducedPrecision precision)
    {
        if (tensor.ElementType != OnnxDataType.Float)
            throw new InvalidOperationException($"Tensor '{tensor.Name}' is {tensor.ElementType}, not float32.");
        ReadOnlySpan<float> values;
        if (tensor.RawData is { } raw)
        {
            if (raw.Length % 4 != 0)
                throw new InvalidDataException($"The float32 tensor '{tensor.Name}' has {raw.Length} bytes of raw_data, not a multiple of 4: the model is damaged.");
            values = Floats(raw.Span);
        }
        else
        {
            values = CollectionsMarshal.AsSpan(tensor.FloatData);
        }
        long clampedCount = 0;
        if (tensor.RawData is not null || values.Length > 0)
        {
            var converted = new byte[values.Length * 2];
            var bits = MemoryMarshal.Cast<byte, ushort>(converted.AsSpan());
            clampedCount = precision == ReducedPrecision.Float16 ? ToFloat16(values, bits) : ToBFloat16(values, bits);
            tensor.FloatData.Clear();
            tensor.RawData = converted;
        }
        tensor.DataType = (int)precision.DataType();
        return clampedCount;
    }
}
