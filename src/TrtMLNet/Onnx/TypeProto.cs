namespace TrtMLNet.Onnx;

/// <summary>
/// onnx.proto's TypeProto: a tensor, a sequence or an optional are decoded (their element types are
/// what a precision rewrite changes); map, sparse tensor and opaque types are kept as bytes.
/// </summary>
internal sealed class TypeProto : OnnxMessage
{
    private const int TensorTypeField = 1, SequenceTypeField = 4, DenotationField = 6, OptionalTypeField = 9;
    private static readonly int[] s_fields = [TensorTypeField, SequenceTypeField, DenotationField, OptionalTypeField];

    public TensorTypeProto? TensorType { get; set; }
    public ContainerTypeProto? SequenceType { get; set; }
    public string? Denotation { get; set; }
    public ContainerTypeProto? OptionalType { get; set; }

    /// <summary>The element type of the tensor, or of the tensors a sequence or optional holds.</summary>
    public OnnxDataType ElementType =>
        TensorType is { } tensor ? (OnnxDataType)(tensor.ElemType ?? 0)
        : (SequenceType ?? OptionalType)?.ElemType?.ElementType ?? OnnxDataType.Undefined;

    public bool IsTensor => TensorType is not null;

    /// <summary>Sets the element type wherever <see cref="ElementType"/> read it from.</summary>
    public void SetElementType(OnnxDataType type)
    {
        if (TensorType is { } tensor)
            tensor.ElemType = (int)type;
        else
            (SequenceType ?? OptionalType)?.ElemType?.SetElementType(type);
    }

    protected override ReadOnlySpan<int> FieldNumbers => s_fields;

    protected override bool ReadField(in ProtoField field)
    {
        if (!field.IsLengthDelimited)
            return false;
        switch (field.Number)
        {
            case TensorTypeField: TensorType = field.Message<TensorTypeProto>(); return true;
            case SequenceTypeField: SequenceType = field.Message<ContainerTypeProto>(); return true;
            case DenotationField: Denotation = field.String; return true;
            case OptionalTypeField: OptionalType = field.Message<ContainerTypeProto>(); return true;
            default: return false;
        }
    }

    protected override void WriteField(ProtoWriter writer, int number, bool packed)
    {
        switch (number)
        {
            case TensorTypeField: writer.Message(number, TensorType); break;
            case SequenceTypeField: writer.Message(number, SequenceType); break;
            case DenotationField: writer.String(number, Denotation); break;
            case OptionalTypeField: writer.Message(number, OptionalType); break;
        }
    }
}

/// <summary>TypeProto.Tensor: an element type and a shape.</summary>
internal sealed class TensorTypeProto : OnnxMessage
{
    private const int ElemTypeField = 1, ShapeField = 2;
    private static readonly int[] s_fields = [ElemTypeField, ShapeField];

    public int? ElemType { get; set; }
    public TensorShapeProto? Shape { get; set; }

    protected override ReadOnlySpan<int> FieldNumbers => s_fields;

    protected override bool ReadField(in ProtoField field)
    {
        switch (field.Number)
        {
            case ElemTypeField when field.IsVarint: ElemType = field.Int32; return true;
            case ShapeField when field.IsLengthDelimited: Shape = field.Message<TensorShapeProto>(); return true;
            default: return false;
        }
    }

    protected override void WriteField(ProtoWriter writer, int number, bool packed)
    {
        if (number == ElemTypeField)
            writer.Int32(number, ElemType);
        else if (number == ShapeField)
            writer.Message(number, Shape);
    }
}

/// <summary>TypeProto.Sequence and TypeProto.Optional, which have the same one field: elem_type, a TypeProto.</summary>
internal sealed class ContainerTypeProto : OnnxMessage
{
    private const int ElemTypeField = 1;
    private static readonly int[] s_fields = [ElemTypeField];

    public TypeProto? ElemType { get; set; }

    protected override ReadOnlySpan<int> FieldNumbers => s_fields;

    protected override bool ReadField(in ProtoField field)
    {
        if (field.Number != ElemTypeField || !field.IsLengthDelimited)
            return false;
        ElemType = field.Message<TypeProto>();
        return true;
    }

    protected override void WriteField(ProtoWriter writer, int number, bool packed) => writer.Message(number, ElemType);
}

/// <summary>TensorShapeProto: a list of dimensions.</summary>
internal sealed class TensorShapeProto : OnnxMessage
{
    private const int DimField = 1;
    private static readonly int[] s_fields = [DimField];

    public List<DimensionProto> Dims { get; } = [];

    protected override ReadOnlySpan<int> FieldNumbers => s_fields;

    protected override bool ReadField(in ProtoField field)
    {
        if (field.Number != DimField || !field.IsLengthDelimited)
            return false;
        Dims.Add(field.Message<DimensionProto>());
        return true;
    }

    protected override void WriteField(ProtoWriter writer, int number, bool packed) => writer.Messages(number, Dims);
}

/// <summary>TensorShapeProto.Dimension: a size, a symbolic name, or neither (unknown).</summary>
internal sealed class DimensionProto : OnnxMessage
{
    private const int DimValueField = 1, DimParamField = 2, DenotationField = 3;
    private static readonly int[] s_fields = [DimValueField, DimParamField, DenotationField];

    public long? DimValue { get; set; }
    public string? DimParam { get; set; }
    public string? Denotation { get; set; }

    protected override ReadOnlySpan<int> FieldNumbers => s_fields;

    protected override bool ReadField(in ProtoField field)
    {
        switch (field.Number)
        {
            case DimValueField when field.IsVarint: DimValue = field.Int64; return true;
            case DimParamField when field.IsLengthDelimited: DimParam = field.String; return true;
            case DenotationField when field.IsLengthDelimited: Denotation = field.String; return true;
            default: return false;
        }
    }

    protected override void WriteField(ProtoWriter writer, int number, bool packed)
    {
        switch (number)
        {
            case DimValueField: writer.Int64(number, DimValue); break;
            case DimParamField: writer.String(number, DimParam); break;
            case DenotationField: writer.String(number, Denotation); break;
        }
    }
}
