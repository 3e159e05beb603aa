namespace TrtMLNet.Onnx;

/// <summary>onnx.proto's TensorProto. segment is kept as bytes.</summary>
internal sealed class TensorProto : OnnxMessage<TensorProto>
{
    /// <summary>TensorProto.DataLocation.EXTERNAL: the values live in a file next to the model.</summary>
    public const int ExternalLocation = 1;

    [Field(1)] public List<long> Dims { get; } = [];
    [Field(2)] public int? DataType { get; set; }
    [Field(4, Packed = true)] public List<float> FloatData { get; } = [];

    /// <summary>int32 values, and the bits of float16/bfloat16 (and other small types) when there is no raw_data.</summary>
    [Field(5, Packed = true)] public List<int> Int32Data { get; } = [];
    [Field(6)] public List<ReadOnlyMemory<byte>> StringData { get; } = [];
    [Field(7, Packed = true)] public List<long> Int64Data { get; } = [];
    [Field(8)] public string? Name { get; set; }

    /// <summary>The values as little-endian bytes; null when the tensor keeps them in a typed field (or has none).</summary>
    [Field(9)] public ReadOnlyMemory<byte>? RawData { get; set; }
    [Field(10, Packed = true)] public List<double> DoubleData { get; } = [];
    [Field(11, Packed = true)] public List<ulong> UInt64Data { get; } = [];
    [Field(12)] public string? DocString { get; set; }
    [Field(13)] public List<StringStringEntryProto> ExternalData { get; } = [];
    [Field(14)] public int? DataLocation { get; set; }
    [Field(16)] public List<StringStringEntryProto> MetadataProps { get; } = [];

    public OnnxDataType ElementType => (OnnxDataType)(DataType ?? 0);

    public bool IsExternal => DataLocation == ExternalLocation || ExternalData.Count > 0;

    public long ElementCount => Dims.Aggregate(1L, (count, dim) => count * dim);
}
