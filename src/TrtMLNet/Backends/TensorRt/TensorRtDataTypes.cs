using TrtMLNet.Native.TensorRt;

namespace TrtMLNet.Backends.TensorRt;

/// <summary>TensorRT's tensor types (as the shim names them) in TrtMLNet's terms.</summary>
internal static class TensorRtDataTypes
{
    /// <summary>
    /// The element type ML.NET columns can carry, and the type's name for messages. TensorRT has no
    /// 64-bit float at all, so <see cref="TensorElementType.Float64"/> never comes from an engine: an
    /// ONNX model with double inputs or outputs fails in TensorRT's ONNX parser, and has to be exported
    /// with float32 tensors (or run on an ONNX Runtime backend).
    /// </summary>
    public static (TensorElementType Type, string Name) ToElementType(ShimDataType type) => type switch
    {
        ShimDataType.Float32 => (TensorElementType.Float32, "float"),
        ShimDataType.Int32 => (TensorElementType.Int32, "int32"),
        ShimDataType.Int64 => (TensorElementType.Int64, "int64"),
        ShimDataType.Bool => (TensorElementType.Bool, "bool"),
        ShimDataType.UInt8 => (TensorElementType.UInt8, "uint8"),
        ShimDataType.Float16 => (TensorElementType.Float16, "float16"),
        ShimDataType.BFloat16 => (TensorElementType.BFloat16, "bfloat16"),
        ShimDataType.Int8 => (TensorElementType.Unsupported, "int8"),
        ShimDataType.Fp8 => (TensorElementType.Unsupported, "fp8"),
        ShimDataType.Int4 => (TensorElementType.Unsupported, "int4"),
        ShimDataType.Fp4 => (TensorElementType.Unsupported, "fp4"),
        _ => (TensorElementType.Unsupported, $"a TensorRT type the shim has no name for ({(int)type})"),
    };

    /// <summary>
    /// Bytes a tensor of <paramref name="elements"/> elements takes. Used to size buffers nobody reads,
    /// so a type the shim cannot name counts 8 bytes an element: too much memory is harmless there, too
    /// little would let TensorRT write past the buffer.
    /// </summary>
    public static long Bytes(ShimDataType type, long elements) => type switch
    {
        ShimDataType.Int4 or ShimDataType.Fp4 => checked((elements + 1) / 2),
        ShimDataType.Int8 or ShimDataType.UInt8 or ShimDataType.Bool or ShimDataType.Fp8 => elements,
        ShimDataType.Float16 or ShimDataType.BFloat16 => checked(elements * 2),
        ShimDataType.Float32 or ShimDataType.Int32 => checked(elements * 4),
        ShimDataType.Int64 => checked(elements * 8),
        _ => checked(elements * 8),
    };

    /// <summary>Elements of a shape; null while a dimension is unknown (-1).</summary>
    public static long? Volume(ReadOnlySpan<long> shape)
    {
        long volume = 1;
        foreach (var d in shape)
        {
            if (d < 0)
                return null;
            volume = checked(volume * d);
        }
        return volume;
    }
}
