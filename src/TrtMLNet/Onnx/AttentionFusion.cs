using static TrtMLNet.Onnx.FusionGraph;

namespace TrtMLNet.Onnx;

/// <summary>
/// Replaces attention written out as plain ONNX ops (what <c>torch.onnx</c> writes for a transformer's eager
/// attention) with ONNX Runtime's fused <c>com.microsoft.MultiHeadAttention</c>, whose CUDA kernels run the
/// scores, the mask, the softmax and the weighted sum in one pass instead of seven ops over a
/// batch x heads x sequence x sequence tensor. ONNX Runtime's own fusions (its C++ optimizer and its Python
/// transformer optimizer) did not match the exports of torch 2.11 with transformers 5 (docs/precision.md).
/// <para>
/// The pattern, per attention block: <c>Softmax(Add(Mul|Div(MatMul(Transpose(Reshape(q)), Transpose(Reshape(k))),
/// scale), mask))</c>, then <c>Reshape(Transpose(MatMul(softmax, Transpose(Reshape(v)))))</c>, where the three
/// inner Reshapes split heads ([batch, sequence, heads, size], the same for q, k and v); the mask Add is
/// optional, in either order. Every value between the Reshapes must be read only by the block. A block that
/// does not match exactly is left as it is, and the model still runs.
/// </para>
/// <para>
/// What replaces it keeps the Reshapes at both ends, so nothing is assumed about the ranks around them: the
/// fused node reads the split heads merged again ([batch, sequence, heads x size]) and writes the merged
/// heads' memory, which the block's closing Reshape turns into what it gave before. The mask is expanded to
/// the [batch or 1, heads or 1, sequence, key sequence] MultiHeadAttention takes, per block.
/// </para>
/// </summary>
internal sealed class AttentionFusion
{
    private readonly FusionGraph _graph;

    private AttentionFusion(FusionGraph graph) => _graph = graph;

    /// <summary>
    /// Fuses every attention block of the graph that matches, and says how many. Needs ONNX opset 15 or
    /// later (Shape with start and end).
    /// </summary>
    public static int Fuse(FusionGraph graph)
    {
        if (graph.Opset is not >= 15)
            return 0;
        var fusion = new AttentionFusion(graph);
        return graph.Graph.Nodes.Where(n => IsOp(n, "Softmax")).ToList().Count(fusion.TryFuse);
    }

    private bool TryFuse(NodeProto softmax)
    {
        if (Int(softmax, "axis", -1) is not (-1 or 3) || ScoresOf(softmax.Inputs[0]) is not { } scores)
            return false;
        if (HeadsInput(scores.MatMul.Inputs[0], [0, 2, 1, 3]) is not { } query || KeyInput(scores.MatMul.Inputs[1]) is not { } key)
            return false;
        if (_graph.OnlyReader(softmax.Outputs[0]) is not { } weighted || !IsOp(weighted, "MatMul") || weighted.Inputs[0] != softmax.Outputs[0]
            || HeadsInput(weighted.Inputs[1], [0, 2, 1, 3]) is not { } value)
            return false;
        if (_graph.OnlyReader(weighted.Outputs[0]) is not { } merge || !IsPermutation(merge, [0, 2, 1, 3])
            || _graph.OnlyReader(merge.Outputs[0]) is not { } output || !IsOp(output, "Reshape") || !KeepsBatchAndSequence(output))
            return false;
        var shape = HeadShape(query.Reshape);
        if (shape is null || HeadShape(key.Reshape) != shape || HeadShape(value.Reshape) != shape || Heads(shape.Value, query.Reshape) is not { } heads)
            return false;

        var block = new List<NodeProto> { scores.Scaled, scores.MatMul, softmax, weighted, merge, query.Transpose, value.Transpose };
        if (scores.Add is not null)
            block.Add(scores.Add);
        block.AddRange(key.Transposes);
        if (!block.All(_graph.ReadOnce))
            return false;

        // MultiHeadAttention writes [batch, sequence, hidden]: the merged heads' memory as it was, so the block's
        // own closing Reshape still gives what it gave (KeepsBatchAndSequence).
        var added = new List<NodeProto>();
        string Merged(NodeProto reshape)
        {
            added.Add(Node("Reshape", $"{reshape.Outputs[0]}/merged", [reshape.Outputs[0], MergedShape()]));
            return added[^1].Outputs[0];
        }
        var (q, k, v) = (Merged(query.Reshape), Merged(key.Reshape), Merged(value.Reshape));
        var inputs = new List<string> { q, k, v };
        if (scores.Mask is { } mask)
        {
            // attention_bias is [batch or 1, heads or 1, sequence, key sequence]: Expand broadcasts any mask of rank up to 4 there.
            var bias = $"{merge.Outputs[0]}/attention_bias";
            added.Add(Node("Shape", $"{bias}/sequence", [q], AttributeProto.Int("start", 1), AttributeProto.Int("end", 2)));
            added.Add(Node("Shape", $"{bias}/keys", [k], AttributeProto.Int("start", 1), AttributeProto.Int("end", 2)));
            added.Add(Node("Concat", $"{bias}/shape", [Ones(), $"{bias}/sequence", $"{bias}/keys"], AttributeProto.Int("axis", 0)));
            added.Add(Node("Expand", bias, [mask, $"{bias}/shape"]));
            inputs.AddRange(["", "", bias]);
        }
        added.Add(MicrosoftNode("MultiHeadAttention", merge.Outputs[0], [.. inputs], AttributeProto.Int("num_heads", heads),
            new AttributeProto { Name = "scale", Type = AttributeProto.FloatType, F = scores.Scale }));
        _graph.Replace(output, added, block, retyped: merge.Outputs[0]);
        return true;
    }

    /// <summary>
    /// The scores feeding a softmax: <c>Add(scaled, mask)</c> in either order, or <c>scaled</c> alone, where
    /// <c>scaled</c> is a MatMul's output times (or over) a scalar constant.
    /// </summary>
    private (NodeProto? Add, string? Mask, NodeProto Scaled, float Scale, NodeProto MatMul)? ScoresOf(string name)
    {
        var node = _graph.ProducerOf(name);
        if (IsOp(node, "Add"))
        {
            for (var side = 0; side < 2; side++)
            {
                if (_graph.ProducerOf(node!.Inputs[side]) is { } scaled && ScaleOf(scaled) is { } found && _graph.ProducerOf(found.Scores) is { } matMul && IsOp(matMul, "MatMul"))
                    return (node, node.Inputs[1 - side], scaled, found.Scale, matMul);
            }
            return null;
        }
        if (node is not null && ScaleOf(node) is { } alone && _graph.ProducerOf(alone.Scores) is { } scores && IsOp(scores, "MatMul"))
            return (null, null, node, alone.Scale, scores);
        return null;
    }

    /// <summary>A Mul by a scalar float constant (either side) or a Div by one: the scale and the other operand.</summary>
    private (float Scale, string Scores)? ScaleOf(NodeProto node)
    {
        if (IsOp(node, "Div") && _graph.Scalar(node.Inputs[1]) is { } divisor)
            return (1 / divisor, node.Inputs[0]);
        if (!IsOp(node, "Mul"))
            return null;
        if (_graph.Scalar(node.Inputs[1]) is { } right)
            return (right, node.Inputs[0]);
        return _graph.Scalar(node.Inputs[0]) is { } left ? (left, node.Inputs[1]) : null;
    }

    /// <summary>q (or v) split into heads: a Transpose by <paramref name="perm"/> of a Reshape.</summary>
    private (NodeProto Reshape, NodeProto Transpose)? HeadsInput(string name, long[] perm)
    {
        var transpose = _graph.ProducerOf(name);
        if (transpose is null || !IsPermutation(transpose, perm) || _graph.ProducerOf(transpose.Inputs[0]) is not { } reshape || !IsOp(reshape, "Reshape"))
            return null;
        return (reshape, transpose);
    }

    /// <summary>k split into heads and transposed for the scores: one Transpose by [0, 2, 3, 1], or [0, 2, 1, 3] then [0, 1, 3, 2].</summary>
    private (NodeProto Reshape, NodeProto[] Transposes)? KeyInput(string name)
    {
        if (HeadsInput(name, [0, 2, 3, 1]) is { } direct)
            return (direct.Reshape, [direct.Transpose]);
        var swap = _graph.ProducerOf(name);
        if (swap is null || !IsPermutation(swap, [0, 1, 3, 2]) || HeadsInput(swap.Inputs[0], [0, 2, 1, 3]) is not { } heads)
            return null;
        return (heads.Reshape, [swap, heads.Transpose]);
    }

    /// <summary>The heads and head size a Reshape to [batch, sequence, heads, size] names (null where computed); null for another rank.</summary>
    private (long? Heads, long? Size)? HeadShape(NodeProto reshape) =>
        ShapeEntries(reshape.Inputs[1]) is { Length: 4 } shape && shape[2] is not 0 && shape[3] is not 0 ? (shape[2], shape[3]) : null;

    /// <summary>
    /// The head count, which MultiHeadAttention needs equal to the split's third dimension: named by the shape,
    /// or, where that entry is computed (-1), q's width over the head size; that holds only when the split
    /// keeps q's first two dimensions, so those entries must be 0 or read from q's (or its projection input's) shape.
    /// </summary>
    private long? Heads((long? Heads, long? Size) shape, NodeProto split)
    {
        if (shape.Heads is > 0)
            return shape.Heads;
        var q = split.Inputs[0];
        if (shape.Size is not > 0 || HiddenSize(q) is not { } hidden || hidden % shape.Size.Value != 0 || !KeepsLeadingDimensions(split, q))
            return null;
        return hidden / shape.Size.Value;
    }

    private bool KeepsLeadingDimensions(NodeProto split, string q)
    {
        var sources = new HashSet<string>(StringComparer.Ordinal) { q };
        if (Projection(q) is { } projection)
            sources.Add(projection.Inputs[0]);
        var shape = _graph.ProducerOf(split.Inputs[1]);
        if (_graph.Int64s(split.Inputs[1]) is { } constant)
            return constant[0] == 0 && constant[1] == 0;
        if (shape is null || !IsOp(shape, "Concat") || shape.Inputs.Count < 2)
            return false;
        return Enumerable.Range(0, 2).All(axis => _graph.Int64s(shape.Inputs[axis]) is [0] || IsDimension(shape.Inputs[axis], axis, sources));
    }

    /// <summary>
    /// Whether <paramref name="name"/> is dimension <paramref name="axis"/> of one of <paramref name="sources"/>:
    /// Gather(Shape(s), axis), perhaps unsqueezed, perhaps gathered from a Slice of the shape that starts at 0.
    /// </summary>
    private bool IsDimension(string name, int axis, HashSet<string> sources)
    {
        var node = _graph.ProducerOf(name);
        if (node is not null && IsOp(node, "Unsqueeze"))
            node = _graph.ProducerOf(node.Inputs[0]);
        if (node is null || !IsOp(node, "Gather") || Int(node, "axis", 0) != 0 || _graph.Int64s(node.Inputs[1]) is not [var index] || index != axis)
            return false;
        var shapeOf = _graph.ProducerOf(node.Inputs[0]);
        if (shapeOf is not null && IsOp(shapeOf, "Slice") && _graph.Int64s(shapeOf.Inputs[1]) is [0])
            shapeOf = _graph.ProducerOf(shapeOf.Inputs[0]);
        return shapeOf is not null && IsOp(shapeOf, "Shape") && Int(shapeOf, "start", 0) == 0 && sources.Contains(shapeOf.Inputs[0]);
    }

    /// <summary>The MatMul that projects q: q is MatMul(x, W), or that plus a bias.</summary>
    private NodeProto? Projection(string q)
    {
        var node = _graph.ProducerOf(q);
        if (IsOp(node, "Add"))
            node = node!.Inputs.Select(_graph.ProducerOf).FirstOrDefault(p => IsOp(p, "MatMul"));
        return IsOp(node, "MatMul") ? node : null;
    }

    /// <summary>
    /// Whether the block's closing Reshape gives the same result from [batch, sequence, hidden] as from
    /// [batch, sequence, heads, size]: its target is known entry by entry, and no entry past the second is a
    /// 0 (which copies the input's dimension at that place, and those differ).
    /// </summary>
    private bool KeepsBatchAndSequence(NodeProto reshape) =>
        ShapeEntries(reshape.Inputs[1]) is { } shape && shape.Skip(2).All(entry => entry is not 0);

    /// <summary>The entries of a shape that are constants (null where computed), from an initializer, a Constant or a Concat of them.</summary>
    private long?[]? ShapeEntries(string name)
    {
        if (_graph.Int64s(name) is { } whole)
            return whole.Select(v => (long?)v).ToArray();
        if (_graph.ProducerOf(name) is not { } concat || !IsOp(concat, "Concat"))
            return null;
        return concat.Inputs.SelectMany(input => _graph.Int64s(input) is { } part ? part.Select(v => (long?)v) : [null]).ToArray();
    }

    /// <summary>q's width: its projection's weight, a 2-D initializer [in, out].</summary>
    private long? HiddenSize(string q) =>
        Projection(q) is { } projection && _graph.Initializer(projection.Inputs[1]) is { Dims.Count: 2 } weight ? weight.Dims[1] : null;

    /// <summary>[0, 0, -1]: a Reshape by it merges the heads of [batch, sequence, heads, size]. One initializer for the model.</summary>
    private string MergedShape() => _graph.SharedInitializer("TrtMLNet/merged_heads_shape", [0, 0, -1]);

    /// <summary>[1, 1]: the leading dimensions of the attention bias's broadcast shape.</summary>
    private string Ones() => _graph.SharedInitializer("TrtMLNet/attention_bias_leading", [1, 1]);

    private static bool IsPermutation(NodeProto node, long[] perm) =>
        IsOp(node, "Transpose") && node.Attribute("perm") is { } attribute && attribute.Ints.SequenceEqual(perm);

}
