namespace TrtMLNet.Onnx;

/// <summary>What <see cref="TransformerFusions.Run"/> fused.</summary>
internal sealed record TransformerFusionReport(int AttentionBlocks, int SkipLayerNorms)
{
    public bool Changed => AttentionBlocks + SkipLayerNorms > 0;

    public override string ToString() => Changed
        ? $"{AttentionBlocks} attention blocks fused into com.microsoft.MultiHeadAttention, {SkipLayerNorms} residual adds and layer norms into SkipLayerNormalization."
        : "FuseTransformerOps found nothing it could fuse (docs/precision.md says which patterns it looks for).";
}

/// <summary>
/// ONNX Runtime's fused transformer ops, put in place of what <c>torch.onnx</c> writes for them, where ONNX
/// Runtime's own optimizers do not match the exports (docs/precision.md): attention
/// (<see cref="AttentionFusion"/>), then the residual add before each layer norm (<see cref="SkipLayerNormFusion"/>).
/// </summary>
internal static class TransformerFusions
{
    /// <summary>Fuses what matches in <paramref name="model"/>'s main graph, in place; a model with nothing to fuse is left as it was.</summary>
    public static TransformerFusionReport Run(ModelProto model)
    {
        var graph = new FusionGraph(model);
        var report = new TransformerFusionReport(AttentionFusion.Fuse(graph), SkipLayerNormFusion.Fuse(graph));
        if (report.Changed)
            graph.Finish();
        return report;
    }
}
