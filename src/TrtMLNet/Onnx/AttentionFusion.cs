using System.Runtime.InteropServices;

namespace TrtMLNet.Onnx;

/// <summary>
/// Replaces attention written out as plain ONNX ops (what <c>torch.onnx</c> writes for a transformer's eager
/// attention) with ONNX Runtime's fused <c>com.microsoft.MultiHeadAttention</c>, whose CUDA kernels run the
/// scores, the mask, the softmax and the weighted sum in one pass instead of seven ops over a
/// batch x heads x sequence x sequence tensor. ONNX Runtime's own fusions (its C++ optimizer and its Python
/// transformer optimizer) did not match the exports of torch 2.11 with transformers 5 (docs/precision.md).
/// <para>
/// The pattern, per attention block, with q, k and v of shape [batch, sequence, hidden]:
/// <c>Softmax(Add(Mul|Div(MatMul(Transpose(Reshape(q)), Transpose(Reshape(k))), scale), mask))</c>, then
/// <c>Reshape(Transpose(MatMul(softmax, Transpose(Reshape(v)))))</c>; the mask Add is optional. Every value
/// inside the block must be read only by the block, so removing it changes nothing else. A block that does
/// not match exactly is left as it is, and the model still runs.
/// </para>
/// </summary>
internal sealed class AttentionFusion
{
    private const string Microsoft = "com.microsoft";
    private readonly ModelProto _model;
    private readonly GraphProto _graph;
    private readonly Dictionary<string, NodeProto> _producer = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _readers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TensorProto> _initializers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _broadcastMasks = new(StringComparer.Ordinal);
    private readonly HashSet<string> _graphOutputs;

    private AttentionFusion(ModelProto model)
    {
        _model = model;
        _graph = model.Graph!;
        _graphOutputs = _graph.Outputs.Select(o => o.Name ?? "").ToHashSet(StringComparer.Ordinal);
        foreach (var tensor in _graph.Initializers)
            _initializers[tensor.Name ?? ""] = tensor;
        foreach (var node in _graph.Nodes)
        {
            foreach (var output in node.Outputs)
                _producer[output] = node;
            foreach (var input in node.Inputs.Concat(GraphWalk.OuterReferences(node)))
                _readers[input] = _readers.GetValueOrDefault(input) + 1;
        }
    }

    /// <summary>
    /// Fuses every attention block of <paramref name="model"/>'s main graph that matches, and says how many;
    /// 0 leaves the model untouched. Needs ONNX opset 15 or later (Shape with start and end).
    /// </summary>
    public static int Fuse(ModelProto model)
    {
        if (model.Graph is null || model.OpsetVersion("") is not >= 15)
            return 0;
        var fusion = new AttentionFusion(model);
        var fused = fusion._graph.Nodes.Where(n => IsOp(n, "Softmax")).ToList().Count(fusion.TryFuse);
        if (fused > 0)
            fusion.Finish();
        return fused;
    }

    private bool TryFuse(NodeProto softmax)
    {
        if (Int(softmax, "axis", -1) is not (-1 or 3))
            return false;
        var add = ProducerOf(softmax.Inputs[0]);
        string? mask = null;
        NodeProto? scaled = null;
        if (IsOp(add, "Add"))
        {
            for (var side = 0; side < 2 && scaled is null; side++)
            {
                if (ProducerOf(add!.Inputs[side]) is { } candidate && ScaleOf(candidate) is not null)
                    (scaled, mask) = (candidate, add.Inputs[1 - side]);
            }
        }
        else if (add is not null && ScaleOf(add) is not null)
            (scaled, add) = (add, null);
        if (scaled is null || ScaleOf(scaled) is not { } scale)
            return false;
        var scores = ProducerOf(scaled.Inputs[0]);
        if (!IsOp(scores, "MatMul") || HeadsInput(scores!.Inputs[0], [0, 2, 1, 3]) is not { } query
            || KeyInput(scores.Inputs[1]) is not { } key)
            return false;
        if (OnlyReader(softmax.Outputs[0]) is not { } weighted || !IsOp(weighted, "MatMul") || weighted.Inputs[0] != softmax.Outputs[0]
            || HeadsInput(weighted.Inputs[1], [0, 2, 1, 3]) is not { } value)
            return false;
        if (OnlyReader(weighted.Outputs[0]) is not { } merge || !IsPermutation(merge, [0, 2, 1, 3])
            || OnlyReader(merge.Outputs[0]) is not { } output || !IsOp(output, "Reshape"))
            return false;
        if (HeadCount(query.Reshape, query.Input) is not { } heads)
            return false;

        var block = new List<NodeProto> { scaled, scores, softmax, weighted, merge, output };
        if (add is not null)
            block.Add(add);
        block.AddRange(query.Nodes);
        block.AddRange(key.Nodes);
        block.AddRange(value.Nodes);
        if (block.Any(n => n != output && n.Outputs.Any(o => _graphOutputs.Contains(o) || _readers.GetValueOrDefault(o) != 1)))
            return false;

        var inputs = new List<string> { query.Input, key.Input, value.Input };
        var position = _graph.Nodes.IndexOf(output);
        if (mask is not null)
        {
            inputs.AddRange(["", "", BroadcastMask(mask, query.Input, ref position)]);
        }
        var attention = new NodeProto { Name = $"{output.Name}/TrtMLNet.MultiHeadAttention", OpType = "MultiHeadAttention", Domain = Microsoft };
        attention.Inputs.AddRange(inputs);
        attention.Outputs.Add(output.Outputs[0]);
        attention.Attributes.Add(AttributeProto.Int("num_heads", heads));
        attention.Attributes.Add(new AttributeProto { Name = "scale", Type = AttributeProto.FloatType, F = scale });
        _graph.Nodes.Insert(position, attention);
        foreach (var node in block)
        {
            _graph.Nodes.Remove(node);
            foreach (var input in node.Inputs)
                _readers[input] = _readers.GetValueOrDefault(input) - 1;
        }
        foreach (var input in attention.Inputs)
            _readers[input] = _readers.GetValueOrDefault(input) + 1;
        return true;
    }

    /// <summary>q (or v) as [batch, sequence, hidden] under Reshape to [batch, sequence, heads, size] and a Transpose by <paramref name="perm"/>.</summary>
    private (string Input, NodeProto Reshape, NodeProto[] Nodes)? HeadsInput(string name, long[] perm)
    {
        var transpose = ProducerOf(name);
        if (transpose is null || !IsPermutation(transpose, perm) || ProducerOf(transpose.Inputs[0]) is not { } reshape || !IsOp(reshape, "Reshape"))
            return null;
        return (reshape.Inputs[0], reshape, [transpose, reshape]);
    }

    /// <summary>k transposed for the scores: one Transpose by [0, 2, 3, 1], or [0, 2, 1, 3] then [0, 1, 3, 2].</summary>
    private (string Input, NodeProto[] Nodes)? KeyInput(string name)
    {
        if (HeadsInput(name, [0, 2, 3, 1]) is { } direct)
            return (direct.Input, direct.Nodes);
        var swap = ProducerOf(name);
        if (swap is null || !IsPermutation(swap, [0, 1, 3, 2]) || HeadsInput(swap.Inputs[0], [0, 2, 1, 3]) is not { } heads)
            return null;
        return (heads.Input, [swap, .. heads.Nodes]);
    }

    /// <summary>The scale of a Mul or Div by a scalar float constant (Div: its inverse); null for anything else.</summary>
    private float? ScaleOf(NodeProto node)
    {
        if (!IsOp(node, "Mul") && !IsOp(node, "Div"))
            return null;
        if (Scalar(node.Inputs[1]) is { } right)
            return IsOp(node, "Mul") ? right : 1 / right;
        if (IsOp(node, "Mul") && Scalar(node.Inputs[0]) is { } left)
        {
            (node.Inputs[0], node.Inputs[1]) = (node.Inputs[1], node.Inputs[0]);
            return left;
        }
        return null;
    }

    /// <summary>Heads from the Reshape's target shape: its third entry, or the hidden size over its fourth.</summary>
    private long? HeadCount(NodeProto reshape, string query)
    {
        var shape = ShapeEntries(reshape.Inputs[1]);
        if (shape is not { Length: 4 })
            return null;
        if (shape[2] is > 0)
            return shape[2];
        if (shape[3] is not > 0 || HiddenSize(query) is not { } hidden || hidden % shape[3]!.Value != 0)
            return null;
        return hidden / shape[3]!.Value;
    }

    /// <summary>The entries of a shape that are constants (null where computed), from an initializer, a Constant or a Concat of them.</summary>
    private long?[]? ShapeEntries(string name)
    {
        if (Int64s(name) is { } whole)
            return whole.Select(v => (long?)v).ToArray();
        if (ProducerOf(name) is not { } concat || !IsOp(concat, "Concat"))
            return null;
        return concat.Inputs.SelectMany(input => Int64s(input) is { } part ? part.Select(v => (long?)v) : [null]).ToArray();
    }

    /// <summary>The projection's width: q is Add(bias, MatMul(x, W)) or MatMul(x, W), with the bias or W an initializer.</summary>
    private long? HiddenSize(string query)
    {
        var node = ProducerOf(query);
        if (IsOp(node, "Add"))
        {
            if (node!.Inputs.Select(i => _initializers.GetValueOrDefault(i)).FirstOrDefault(t => t is { Dims.Count: 1 }) is { } bias)
                return bias.Dims[0];
            node = node.Inputs.Select(ProducerOf).FirstOrDefault(p => IsOp(p, "MatMul"));
        }
        return IsOp(node, "MatMul") && _initializers.GetValueOrDefault(node!.Inputs[1]) is { Dims.Count: 2 } weight ? weight.Dims[1] : null;
    }

    /// <summary>
    /// The additive mask broadcast to [batch or 1, heads or 1, sequence, sequence], as MultiHeadAttention's
    /// attention_bias needs (it broadcasts the first two dimensions only): Expand by the mask's own shape with
    /// its third entry replaced by q's sequence length. Made once per mask, before <paramref name="position"/>.
    /// </summary>
    private string BroadcastMask(string mask, string query, ref int position)
    {
        if (_broadcastMasks.TryGetValue(mask, out var made))
            return made;
        var prefix = $"TrtMLNet/attention_bias_{_broadcastMasks.Count}";
        NodeProto Node(string op, string output, string[] inputs, params AttributeProto[] attributes)
        {
            var node = new NodeProto { Name = $"{prefix}/{op}_{output}", OpType = op };
            node.Inputs.AddRange(inputs);
            node.Outputs.Add($"{prefix}/{output}");
            node.Attributes.AddRange(attributes);
            return node;
        }
        var nodes = new[]
        {
            Node("Shape", "head", [mask], AttributeProto.Int("start", 0), AttributeProto.Int("end", 2)),
            Node("Shape", "sequence", [query], AttributeProto.Int("start", 1), AttributeProto.Int("end", 2)),
            Node("Shape", "tail", [mask], AttributeProto.Int("start", 3)),
            Node("Concat", "shape", [$"{prefix}/head", $"{prefix}/sequence", $"{prefix}/tail"], AttributeProto.Int("axis", 0)),
            Node("Expand", "bias", [mask, $"{prefix}/shape"]),
        };
        _graph.Nodes.InsertRange(position, nodes);
        position += nodes.Length;
        foreach (var input in nodes.SelectMany(n => n.Inputs))
            _readers[input] = _readers.GetValueOrDefault(input) + 1;
        return _broadcastMasks[mask] = $"{prefix}/bias";
    }

    /// <summary>Drops what only the fused blocks read (their shape arithmetic), and declares the com.microsoft domain.</summary>
    private void Finish()
    {
        for (var removed = true; removed;)
        {
            removed = false;
            for (var i = _graph.Nodes.Count - 1; i >= 0; i--)
            {
                var node = _graph.Nodes[i];
                if (node.Outputs.Any(o => o.Length > 0 && (_readers.GetValueOrDefault(o) > 0 || _graphOutputs.Contains(o))))
                    continue;
                _graph.Nodes.RemoveAt(i);
                foreach (var input in node.Inputs)
                    _readers[input] = _readers.GetValueOrDefault(input) - 1;
                removed = true;
            }
        }
        // An initializer also listed as a graph input is that input's default: removing it would make the input required.
        var inputs = _graph.Inputs.Select(i => i.Name ?? "").ToHashSet(StringComparer.Ordinal);
        _graph.Initializers.RemoveAll(t => _readers.GetValueOrDefault(t.Name ?? "") <= 0 && !_graphOutputs.Contains(t.Name ?? "") && !inputs.Contains(t.Name ?? ""));
        var values = _graph.Nodes.SelectMany(n => n.Outputs).Concat(inputs).Concat(_graph.Initializers.Select(t => t.Name ?? "")).ToHashSet(StringComparer.Ordinal);
        _graph.ValueInfo.RemoveAll(v => !values.Contains(v.Name ?? ""));
        if (!_model.OpsetImport.Any(o => o.Domain == Microsoft))
            _model.OpsetImport.Add(new OperatorSetIdProto { Domain = Microsoft, Version = 1 });
    }

    private NodeProto? ProducerOf(string name) => _producer.GetValueOrDefault(name) is { } node && _graph.Nodes.Contains(node) ? node : null;

    private NodeProto? OnlyReader(string name)
    {
        if (_readers.GetValueOrDefault(name) != 1 || _graphOutputs.Contains(name))
            return null;
        return _graph.Nodes.FirstOrDefault(n => n.Inputs.Contains(name));
    }

    private float? Scalar(string name)
    {
        var tensor = _initializers.GetValueOrDefault(name) ?? ConstantTensor(name);
        if (tensor is null || tensor.ElementCount != 1)
            return null;
        return tensor.ElementType switch
        {
            OnnxDataType.Float when tensor.RawData is { } raw => MemoryMarshal.Read<float>(raw.Span),
            OnnxDataType.Float when tensor.FloatData.Count == 1 => tensor.FloatData[0],
            OnnxDataType.Double when tensor.RawData is { } raw => (float)MemoryMarshal.Read<double>(raw.Span),
            OnnxDataType.Double when tensor.DoubleData.Count == 1 => (float)tensor.DoubleData[0],
            _ => null,
        };
    }

    private long[]? Int64s(string name)
    {
        var tensor = _initializers.GetValueOrDefault(name) ?? ConstantTensor(name);
        if (tensor is null || tensor.ElementType != OnnxDataType.Int64)
            return null;
        return tensor.RawData is { } raw ? MemoryMarshal.Cast<byte, long>(raw.Span).ToArray() : tensor.Int64Data.ToArray();
    }

    private TensorProto? ConstantTensor(string name) =>
        ProducerOf(name) is { } node && IsOp(node, "Constant") ? node.Attribute("value")?.T : null;

    private static bool IsPermutation(NodeProto node, long[] perm) =>
        IsOp(node, "Transpose") && node.Attribute("perm") is { } attribute && attribute.Ints.SequenceEqual(perm);

    private static long Int(NodeProto node, string name, long fallback) => node.Attribute(name)?.I ?? fallback;

    private static bool IsOp(NodeProto? node, string op) => node is not null && node.OpType == op && ElementTypeRules.IsDefaultDomain(node.Domain);
}
