namespace TrtMLNet.Onnx;

/// <summary>Constant and ConstantOfShape nodes: the float32 tensor they produce, and how to make it a reduced one.</summary>
internal static class ConstantNodes
{
    public static bool IsConstant(NodeProto node) =>
        ElementTypeRules.IsDefaultDomain(node.Domain) && node.OpType is "Constant" or "ConstantOfShape";

    /// <summary>
    /// The node's value as a float32 tensor: its value or sparse_value tensor, value_float(s) as a tensor,
    /// or ConstantOfShape's implicit float32 zero. Null when the value is not float32.
    /// </summary>
    public static TensorProto? FloatValue(NodeProto node)
    {
        var tensor = node.Attribute("value")?.T ?? node.Attribute("sparse_value")?.SparseTensor?.Values;
        if (tensor is not null)
            return tensor.ElementType == OnnxDataType.Float ? tensor : null;
        if (node.OpType == "ConstantOfShape")
            return Tensor([0f], [1]);
        if (node.Attribute("value_float") is { F: { } f })
            return Tensor([f], []);
        return node.Attribute("value_floats") is { } floats ? Tensor(floats.Floats, [floats.Floats.Count]) : null;
    }

    /// <summary>
    /// Makes the node produce the reduced type: its tensor is converted in place, and a value given any
    /// other way (value_float(s), ConstantOfShape's default) becomes a reduced "value" tensor. Returns how
    /// many values were clamped.
    /// </summary>
    public static long Convert(NodeProto node, ReducedPrecision precision)
    {
        var value = FloatValue(node) ?? throw new InvalidOperationException($"{node.Describe()} has no float32 value.");
        if (node.Attribute("value")?.T != value && node.Attribute("sparse_value")?.SparseTensor?.Values != value)
        {
            node.Attributes.RemoveAll(a => a.Name is "value_float" or "value_floats");
            node.Attributes.Add(AttributeProto.Tensor("value", value));
        }
        return ReducedFloat.ConvertTensor(value, precision);
    }

    private static TensorProto Tensor(IEnumerable<float> values, long[] dims)
    {
        var tensor = new TensorProto { DataType = (int)OnnxDataType.Float };
        tensor.Dims.AddRange(dims);
        tensor.FloatData.AddRange(values);
        return tensor;
    }
}
