namespace TrtMLNet.Onnx;

/// <summary>
/// onnx.proto's TypeProto: a tensor, a sequence or an optional are decoded (their element types are
/// what a precision rewrite changes); map, sparse tensor and opaque types are kept as bytes.
/// </summary>
internal sealed class TypeProto : OnnxMessage<TypeProto>
{
    [Field(1)] public TensorTypeProto? TensorType { get; set; }
    [Field(4)] public ContainerTypeProto? SequenceType { get; set; }
    [Field(6)] public string? Denotation { get; set; }
    [Field(9)] public ContainerTypeProto? OptionalType { get; set; }

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
}

/// <summary>TypeProto.Tensor: an element type and a shape.</summary>
internal sealed class TensorTypeProto : OnnxMessage<TensorTypeProto>
{
    [Field(1)] public int? ElemType { get; set; }
    [Field(2)] public TensorShapeProto? Shape { get; set; }
}

/// <summary>TypeProto.Sequence and TypeProto.Optional, which have the same one field: elem_type, a TypeProto.</summary>
internal sealed class ContainerTypeProto : OnnxMessage<ContainerTypeProto>
{
    [Field(1)] public TypeProto? ElemType { get; set; }
}

/// <summary>TensorShapeProto: a list of dimensions.</summary>
internal sealed class TensorShapeProto : OnnxMessage<TensorShapeProto>
{
    [Field(1)] public List<DimensionProto> Dims { get; } = [];
}

/// <summary>TensorShapeProto.Dimension: a size, a symbolic name, or neither (unknown).</summary>
internal sealed class DimensionProto : OnnxMessage<DimensionProto>
{
    [Field(1)] public long? DimValue { get; set; }
    [Field(2)] public string? DimParam { get; set; }
    [Field(3)] public string? Denotation { get; set; }
}
