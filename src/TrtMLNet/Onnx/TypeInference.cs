namespace TrtMLNet.Onnx;

/// <summary>
/// The element type of every value of a graph: graph inputs and initializers as declared, node outputs by
/// <see cref="ElementTypeRules"/>, the outputs of If/Loop/Scan from their bodies and those of model-local
/// functions from the function's nodes. Where the rules do not tell, the graph's value_info (or its
/// declared outputs) does; a value none of these types is left out (unknown).
/// </summary>
internal sealed class TypeInference(IReadOnlyList<FunctionProto> functions)
{
    private const int MaxFunctionDepth = 32;

    public Dictionary<string, OnnxDataType> InferGraph(GraphProto graph, Func<string, OnnxDataType>? outer = null,
        IReadOnlyList<OnnxDataType>? inputTypes = null)
    {
        var types = new Dictionary<string, OnnxDataType>(StringComparer.Ordinal);
        for (var i = 0; i < graph.Inputs.Count; i++)
        {
            var declared = graph.Inputs[i].ElementType;
            var given = inputTypes is not null && i < inputTypes.Count ? inputTypes[i] : OnnxDataType.Undefined;
            Set(types, graph.Inputs[i].Name, declared != OnnxDataType.Undefined ? declared : given);
        }
        foreach (var initializer in graph.Initializers)
            Set(types, initializer.Name, initializer.ElementType);
        foreach (var sparse in graph.SparseInitializers)
            Set(types, sparse.Values?.Name, sparse.Values?.ElementType ?? OnnxDataType.Undefined);
        var declaredTypes = graph.ValueInfo.Concat(graph.Outputs)
            .Where(v => v.Name is not null && v.ElementType != OnnxDataType.Undefined)
            .GroupBy(v => v.Name!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First().ElementType, StringComparer.Ordinal);

        OnnxDataType Lookup(string name) =>
            types.TryGetValue(name, out var type) ? type : outer?.Invoke(name) ?? OnnxDataType.Undefined;

        foreach (var node in GraphWalk.TopologicalOrder(graph))
        {
            var outputs = OutputTypes(node, Lookup);
            for (var k = 0; k < node.Outputs.Count; k++)
            {
                var type = outputs[k];
                if (type == OnnxDataType.Undefined)
                    declaredTypes.TryGetValue(node.Outputs[k], out type);
                Set(types, node.Outputs[k], type);
            }
        }
        return types;
    }

    /// <summary>The type of each output of a node, given the types of the values it reads (Undefined where not known).</summary>
    public OnnxDataType[] OutputTypes(NodeProto node, Func<string, OnnxDataType> typeOf) => OutputTypes(node, typeOf, 0);

    private OnnxDataType[] OutputTypes(NodeProto node, Func<string, OnnxDataType> typeOf, int depth)
    {
        OnnxDataType InputType(int i) => i < node.Inputs.Count && node.Inputs[i].Length > 0 ? typeOf(node.Inputs[i]) : OnnxDataType.Undefined;

        var result = new OnnxDataType[node.Outputs.Count];
        if (ElementTypeRules.IsDefaultDomain(node.Domain) && node.OpType is "If" or "Loop" or "Scan")
            return BodyOutputTypes(node, typeOf, InputType);
        if (FindFunction(node) is { } function)
            return depth < MaxFunctionDepth ? FunctionOutputTypes(node, function, InputType, depth) : result;
        for (var k = 0; k < result.Length; k++)
            result[k] = ElementTypeRules.OutputType(node, k, InputType) ?? OnnxDataType.Undefined;
        return result;
    }

    private FunctionProto? FindFunction(NodeProto node)
    {
        foreach (var function in functions)
        {
            if (function.Name == node.OpType && (function.Domain ?? "") == (node.Domain ?? "") && function.Overload == node.Overload)
                return function;
        }
        return null;
    }

    private OnnxDataType[] FunctionOutputTypes(NodeProto node, FunctionProto function, Func<int, OnnxDataType> inputType, int depth)
    {
        var types = new Dictionary<string, OnnxDataType>(StringComparer.Ordinal);
        for (var i = 0; i < function.Inputs.Count; i++)
            Set(types, function.Inputs[i], inputType(i));
        OnnxDataType Lookup(string name) => types.TryGetValue(name, out var type) ? type : OnnxDataType.Undefined;
        foreach (var inner in function.Nodes)
        {
            var outputs = OutputTypes(inner, Lookup, depth + 1);
            for (var k = 0; k < inner.Outputs.Count; k++)
                Set(types, inner.Outputs[k], outputs[k]);
        }
        return [.. function.Outputs.Take(node.Outputs.Count).Select(Lookup)];
    }

    /// <summary>
    /// If: the then-branch's outputs. Loop: the body's outputs after its condition (loop-carried values,
    /// then scan outputs). Scan: the body's outputs (state variables, then scan outputs).
    /// </summary>
    private OnnxDataType[] BodyOutputTypes(NodeProto node, Func<string, OnnxDataType> typeOf, Func<int, OnnxDataType> inputType)
    {
        var result = new OnnxDataType[node.Outputs.Count];
        var (bodyName, firstOutput) = node.OpType switch { "If" => ("then_branch", 0), "Loop" => ("body", 1), _ => ("body", 0) };
        if (node.Attribute(bodyName)?.G is not { } body)
            return result;
        var bodyInputs = node.OpType switch
        {
            "Loop" => [OnnxDataType.Int64, OnnxDataType.Bool, .. Enumerable.Range(2, Math.Max(0, node.Inputs.Count - 2)).Select(inputType)],
            "Scan" => [.. Enumerable.Range(0, node.Inputs.Count).Select(inputType)],
            _ => (OnnxDataType[])[],
        };
        var bodyTypes = InferGraph(body, typeOf, bodyInputs);
        for (var k = 0; k < result.Length && firstOutput + k < body.Outputs.Count; k++)
        {
            var output = body.Outputs[firstOutput + k];
            result[k] = output.ElementType != OnnxDataType.Undefined ? output.ElementType
                : bodyTypes.GetValueOrDefault(output.Name ?? "", typeOf(output.Name ?? ""));
        }
        return result;
    }

    private static void Set(Dictionary<string, OnnxDataType> types, string? name, OnnxDataType type)
    {
        if (!string.IsNullOrEmpty(name) && type != OnnxDataType.Undefined)
            types[name] = type;
    }
}
