using static TrtMLNet.Onnx.FusionGraph;

namespace TrtMLNet.Onnx;

/// <summary>
/// A transformer's residual add before its layer norm, <c>LayerNormalization(Add(Add(MatMul(...), bias), skip))</c>,
/// becomes ONNX Runtime's <c>com.microsoft.SkipLayerNormalization</c>: one kernel that adds the bias and the
/// residual and normalises, where the export makes three passes over [batch, sequence, hidden]. ONNX
/// Runtime's own fusion of this needs shapes its shape inference does not find in these exports.
/// <para>
/// Only that form is fused: the layer norm over the last axis with its scale and bias 1-D initializers of one
/// width and only its first output read; the bias a 1-D initializer as wide, added to a MatMul's output; both
/// sums read only where the pattern reads them. SkipLayerNormalization does not broadcast as Add does (the
/// skip must match the input's last two dimensions, and the output takes the input's shape), and nothing
/// here knows the shapes, so the skip must be the residual stream: a layer norm's output, from which the
/// MatMul's input is itself computed (the block's attention or feed-forward). A layer norm over other sums
/// (the embeddings', whose position term may broadcast over the batch; a conditioning vector added to every
/// position) is left as it is.
/// </para>
/// </summary>
internal static class SkipLayerNormFusion
{
    public static int Fuse(FusionGraph graph) =>
        graph.Graph.Nodes.Where(n => IsOp(n, "LayerNormalization")).ToList().Count(norm => TryFuse(graph, norm));

    private static bool TryFuse(FusionGraph graph, NodeProto norm)
    {
        if (Int(norm, "axis", -1) != -1 || norm.Inputs.Count < 2 || norm.Outputs.Skip(1).Any(o => o.Length > 0 && graph.IsRead(o)))
            return false;
        if (graph.Initializer(norm.Inputs[1]) is not { Dims.Count: 1 } scale)
            return false;
        var shift = norm.Inputs.Count > 2 && norm.Inputs[2].Length > 0 ? norm.Inputs[2] : "";
        if (shift.Length > 0 && (graph.Initializer(shift) is not { Dims.Count: 1 } beta || beta.Dims[0] != scale.Dims[0]))
            return false;
        var sum = graph.ProducerOf(norm.Inputs[0]);
        if (!IsOp(sum, "Add") || !graph.ReadOnce(sum!) || Operands(graph, sum!, scale.Dims[0]) is not { } operands)
            return false;
        if (!IsResidualStream(graph.ProducerOf(operands.Skip)) || !graph.DerivesFrom(operands.Input, operands.Skip))
            return false;

        var fused = MicrosoftNode("SkipLayerNormalization", norm.Outputs[0], [operands.Input, operands.Skip, norm.Inputs[1], shift, operands.Bias],
            new AttributeProto { Name = "epsilon", Type = AttributeProto.FloatType, F = norm.Attribute("epsilon")?.F ?? 1e-5f });
        graph.Replace(norm, [fused], [norm, sum!, operands.BiasAdd]);
        return true;
    }

    private static bool IsResidualStream(NodeProto? node) =>
        IsOp(node, "LayerNormalization") || node is { OpType: "SkipLayerNormalization", Domain: FusionGraph.Microsoft };

    /// <summary>Which side of the residual sum is the MatMul plus its bias, and which the skip.</summary>
    private static (string Input, string Skip, string Bias, NodeProto BiasAdd)? Operands(FusionGraph graph, NodeProto sum, long width)
    {
        for (var side = 0; side < 2; side++)
        {
            if (graph.ProducerOf(sum.Inputs[side]) is not { } biased || !IsOp(biased, "Add") || !graph.ReadOnce(biased))
                continue;
            for (var b = 0; b < 2; b++)
            {
                if (graph.Initializer(biased.Inputs[b]) is { Dims.Count: 1 } bias && bias.Dims[0] == width
                    && IsOp(graph.ProducerOf(biased.Inputs[1 - b]), "MatMul"))
                    return (biased.Inputs[1 - b], sum.Inputs[1 - side], biased.Inputs[b], biased);
            }
        }
        return null;
    }
}
