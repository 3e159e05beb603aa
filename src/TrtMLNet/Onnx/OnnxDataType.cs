namespace TrtMLNet.Onnx;

/// <summary>onnx.proto's TensorProto.DataType, the element types the precision rewrite deals with by name.</summary>
internal enum OnnxDataType
{
    Undefined = 0,
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    Int32 = 6,
    Int64 = 7,
    String = 8,
    Bool = 9,
    Float16 = 10,
    Double = 11,
    BFloat16 = 16,
}
