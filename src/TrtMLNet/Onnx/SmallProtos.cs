namespace TrtMLNet.Onnx;

/// <summary>onnx.proto's OperatorSetIdProto: a domain ("" for the default one) and its opset version.</summary>
internal sealed class OperatorSetIdProto : OnnxMessage
{
    private const int DomainField = 1, VersionField = 2;
    private static readonly int[] s_fields = [DomainField, VersionField];

    public string? Domain { get; set; }
    public long? Version { get; set; }

    protected override ReadOnlySpan<int> FieldNumbers => s_fields;

    protected override bool ReadField(in ProtoField field)
    {
        switch (field.Number)
        {
            case DomainField when field.IsLengthDelimited: Domain = field.String; return true;
            case VersionField when field.IsVarint: Version = field.Int64; return true;
            default: return false;
        }
    }

    protected override void WriteField(ProtoWriter writer, int number, bool packed)
    {
        if (number == DomainField)
            writer.String(number, Domain);
        else if (number == VersionField)
            writer.Int64(number, Version);
    }
}

/// <summary>onnx.proto's StringStringEntryProto: metadata, external data locations.</summary>
internal sealed class StringStringEntryProto : OnnxMessage
{
    private const int KeyField = 1, ValueField = 2;
    private static readonly int[] s_fields = [KeyField, ValueField];

    public string? Key { get; set; }
    public string? Value { get; set; }

    protected override ReadOnlySpan<int> FieldNumbers => s_fields;

    protected override bool ReadField(in ProtoField field)
    {
        if (!field.IsLengthDelimited)
            return false;
        switch (field.Number)
        {
            case KeyField: Key = field.String; return true;
            case ValueField: Value = field.String; return true;
            default: return false;
        }
    }

    protected override void WriteField(ProtoWriter writer, int number, bool packed) =>
        writer.String(number, number == KeyField ? Key : Value);
}

/// <summary>onnx.proto's SparseTensorProto: the non-zero values, their indices and the dense shape.</summary>
internal sealed class SparseTensorProto : OnnxMessage
{
    private const int ValuesField = 1, IndicesField = 2, DimsField = 3;
    private static readonly int[] s_fields = [ValuesField, IndicesField, DimsField];

    public TensorProto? Values { get; set; }
    public TensorProto? Indices { get; set; }
    public List<long> Dims { get; } = [];

    protected override ReadOnlySpan<int> FieldNumbers => s_fields;

    protected override bool ReadField(in ProtoField field)
    {
        switch (field.Number)
        {
            case ValuesField when field.IsLengthDelimited: Values = field.Message<TensorProto>(); return true;
            case IndicesField when field.IsLengthDelimited: Indices = field.Message<TensorProto>(); return true;
            case DimsField when field.IsVarint || field.IsLengthDelimited: field.AddTo(Dims); return true;
            default: return false;
        }
    }

    protected override void WriteField(ProtoWriter writer, int number, bool packed)
    {
        switch (number)
        {
            case ValuesField: writer.Message(number, Values); break;
            case IndicesField: writer.Message(number, Indices); break;
            case DimsField: writer.Int64s(number, Dims, packed); break;
        }
    }
}
