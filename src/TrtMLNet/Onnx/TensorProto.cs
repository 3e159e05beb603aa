namespace TrtMLNet.Onnx;

/// <summary>onnx.proto's TensorProto. segment is kept as bytes.</summary>
internal sealed class TensorProto : OnnxMessage
{
    private const int DimsField = 1, DataTypeField = 2, FloatDataField = 4, Int32DataField = 5, StringDataField = 6, Int64DataField = 7,
        NameField = 8, RawDataField = 9, DoubleDataField = 10, UInt64DataField = 11, DocStringField = 12, ExternalDataField = 13,
        DataLocationField = 14, MetadataPropsField = 16;

    private static readonly int[] s_fields =
    [
        DimsField, DataTypeField, FloatDataField, Int32DataField, StringDataField, Int64DataField, NameField, RawDataField,
        DoubleDataField, UInt64DataField, DocStringField, ExternalDataField, DataLocationField, MetadataPropsField,
    ];

    /// <summary>TensorProto.DataLocation.EXTERNAL: the values live in a file next to the model.</summary>
    public const int ExternalLocation = 1;

    public List<long> Dims { get; } = [];
    public int? DataType { get; set; }
    public List<float> FloatData { get; } = [];

    /// <summary>int32 values, and the bits of float16/bfloat16 (and other small types) when there is no raw_data.</summary>
    public List<int> Int32Data { get; } = [];
    public List<ReadOnlyMemory<byte>> StringData { get; } = [];
    public List<long> Int64Data { get; } = [];
    public string? Name { get; set; }

    /// <summary>The values as little-endian bytes; null when the tensor keeps them in a typed field (or has none).</summary>
    public ReadOnlyMemory<byte>? RawData { get; set; }
    public List<double> DoubleData { get; } = [];
    public List<ulong> UInt64Data { get; } = [];
    public string? DocString { get; set; }
    public List<StringStringEntryProto> ExternalData { get; } = [];
    public int? DataLocation { get; set; }
    public List<StringStringEntryProto> MetadataProps { get; } = [];

    public OnnxDataType ElementType => (OnnxDataType)(DataType ?? 0);

    public bool IsExternal => DataLocation == ExternalLocation || ExternalData.Count > 0;

    public long ElementCount => Dims.Aggregate(1L, (count, dim) => count * dim);

    protected override ReadOnlySpan<int> FieldNumbers => s_fields;

    protected override bool PackedByDefault(int number) =>
        number is FloatDataField or Int32DataField or Int64DataField or DoubleDataField or UInt64DataField;

    protected override bool ReadField(in ProtoField field)
    {
        switch (field.Number)
        {
            case DimsField when field.IsVarint || field.IsLengthDelimited: field.AddTo(Dims); return true;
            case DataTypeField when field.IsVarint: DataType = field.Int32; return true;
            case FloatDataField when field.IsFixed32 || field.IsLengthDelimited: field.AddTo(FloatData); return true;
            case Int32DataField when field.IsVarint || field.IsLengthDelimited: field.AddTo(Int32Data); return true;
            case StringDataField when field.IsLengthDelimited: StringData.Add(field.Bytes); return true;
            case Int64DataField when field.IsVarint || field.IsLengthDelimited: field.AddTo(Int64Data); return true;
            case NameField when field.IsLengthDelimited: Name = field.String; return true;
            case RawDataField when field.IsLengthDelimited: RawData = field.Bytes; return true;
            case DoubleDataField when field.Wire == Google.Protobuf.WireFormat.WireType.Fixed64 || field.IsLengthDelimited: field.AddTo(DoubleData); return true;
            case UInt64DataField when field.IsVarint || field.IsLengthDelimited: field.AddTo(UInt64Data); return true;
            case DocStringField when field.IsLengthDelimited: DocString = field.String; return true;
            case ExternalDataField when field.IsLengthDelimited: ExternalData.Add(field.Message<StringStringEntryProto>()); return true;
            case DataLocationField when field.IsVarint: DataLocation = field.Int32; return true;
            case MetadataPropsField when field.IsLengthDelimited: MetadataProps.Add(field.Message<StringStringEntryProto>()); return true;
            default: return false;
        }
    }

    protected override void WriteField(ProtoWriter writer, int number, bool packed)
    {
        switch (number)
        {
            case DimsField: writer.Int64s(number, Dims, packed); break;
            case DataTypeField: writer.Int32(number, DataType); break;
            case FloatDataField: writer.Floats(number, FloatData, packed); break;
            case Int32DataField: writer.Int32s(number, Int32Data, packed); break;
            case StringDataField: writer.Bytes(number, StringData); break;
            case Int64DataField: writer.Int64s(number, Int64Data, packed); break;
            case NameField: writer.String(number, Name); break;
            case RawDataField: writer.Bytes(number, RawData); break;
            case DoubleDataField: writer.Doubles(number, DoubleData, packed); break;
            case UInt64DataField: writer.UInt64s(number, UInt64Data, packed); break;
            case DocStringField: writer.String(number, DocString); break;
            case ExternalDataField: writer.Messages(number, ExternalData); break;
            case DataLocationField: writer.Int32(number, DataLocation); break;
            case MetadataPropsField: writer.Messages(number, MetadataProps); break;
        }
    }
}
