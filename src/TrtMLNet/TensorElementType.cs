using Microsoft.ML.Data;

namespace TrtMLNet;

/// <summary>Element types a tensor may have at the model's inputs and outputs that ML.NET columns can carry.</summary>
internal enum TensorElementType
{
    Float32,
    Float64,
    Int32,
    Int64,
    Bool,
    UInt8,

    /// <summary>IEEE half precision. ML.NET has no half type: float (Single) columns feed it and receive it, converted in staging.</summary>
    Float16,

    /// <summary>bfloat16 (the upper half of a float). Fed from and read into float columns, as <see cref="Float16"/>.</summary>
    BFloat16,

    /// <summary>A type no ML.NET column carries (string, int8, ...): fine on an output nobody asks for, an error anywhere else.</summary>
    Unsupported,
}

internal static class TensorElementTypes
{
    public static int Size(this TensorElementType type) => type switch
    {
        TensorElementType.Float32 or TensorElementType.Int32 => 4,
        TensorElementType.Float64 or TensorElementType.Int64 => 8,
        TensorElementType.Bool or TensorElementType.UInt8 => 1,
        TensorElementType.Float16 or TensorElementType.BFloat16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    public static PrimitiveDataViewType ToDataViewType(this TensorElementType type) => type switch
    {
        TensorElementType.Float32 or TensorElementType.Float16 or TensorElementType.BFloat16 => NumberDataViewType.Single,
        TensorElementType.Float64 => NumberDataViewType.Double,
        TensorElementType.Int32 => NumberDataViewType.Int32,
        TensorElementType.Int64 => NumberDataViewType.Int64,
        TensorElementType.Bool => BooleanDataViewType.Instance,
        TensorElementType.UInt8 => NumberDataViewType.Byte,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>The ONNX name, as users see it in Netron and in ONNX Runtime's messages.</summary>
    public static string OnnxName(this TensorElementType type) => type switch
    {
        TensorElementType.Float32 => "float",
        TensorElementType.Float64 => "double",
        TensorElementType.Int32 => "int32",
        TensorElementType.Int64 => "int64",
        TensorElementType.Bool => "bool",
        TensorElementType.UInt8 => "uint8",
        TensorElementType.Float16 => "float16",
        TensorElementType.BFloat16 => "bfloat16",
        _ => type.ToString(),
    };
}

internal static class OnnxDataTypes
{
    /// <summary>Our element type for an ONNX TensorProto.DataType number, and the ONNX name for messages.</summary>
    public static (TensorElementType Type, string Name) FromOnnx(int dataType) => dataType switch
    {
        1 => (TensorElementType.Float32, "float"),
        2 => (TensorElementType.UInt8, "uint8"),
        3 => (TensorElementType.Unsupported, "int8"),
        4 => (TensorElementType.Unsupported, "uint16"),
        5 => (TensorElementType.Unsupported, "int16"),
        6 => (TensorElementType.Int32, "int32"),
        7 => (TensorElementType.Int64, "int64"),
        8 => (TensorElementType.Unsupported, "string"),
        9 => (TensorElementType.Bool, "bool"),
        10 => (TensorElementType.Float16, "float16"),
        11 => (TensorElementType.Float64, "double"),
        12 => (TensorElementType.Unsupported, "uint32"),
        13 => (TensorElementType.Unsupported, "uint64"),
        16 => (TensorElementType.BFloat16, "bfloat16"),
        _ => (TensorElementType.Unsupported, $"ONNX data type {dataType}"),
    };
}
