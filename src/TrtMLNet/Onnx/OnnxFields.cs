namespace TrtMLNet.Onnx;

/// <summary>Field numbers from onnx.proto (ModelProto, GraphProto, TensorProto, ValueInfoProto, StringStringEntryProto).</summary>
internal static class OnnxFields
{
    public const int ModelIrVersion = 1, ModelOpsetImport = 8, ModelGraph = 7, ModelMetadataProps = 14;
    public const int GraphNode = 1, GraphInitializer = 5, GraphInput = 11, GraphOutput = 12, GraphValueInfo = 13;
    public const int NodeOpType = 4;
    public const int ValueInfoName = 1, ValueInfoType = 2, TypeTensor = 1, TensorTypeElem = 1, TensorTypeShape = 2;
    public const int ShapeDim = 1, DimValue = 1, DimParam = 2, TensorProtoName = 8;
    public const int TensorDims = 1, TensorDataType = 2, TensorRawData = 9, TensorExternalData = 13;
    public const int EntryKey = 1, EntryValue = 2;

}
