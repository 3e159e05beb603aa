namespace TrtMLNet.Onnx;

/// <summary>What <see cref="TransformerFusions.Run"/> fused.</summary>
internal sealed record TransformerFusionReport(int AttentionBlocks, int SkipLayerNorms, string? Skipped = null)
{
    public bool Changed => AttentionBlocks + SkipLayerNorms > 0;

    public override string ToString() => (Changed
        ? $"{AttentionBlocks} attention blocks fused into com.microsoft.MultiHeadAttention, {SkipLayerNorms} residual adds and layer norms into SkipLayerNormalization."
        : "FuseTransformerOps found nothing it could fuse (docs/precision.md says which patterns it looks for).") + (Skipped is null ? "" : $" {Skipped}");
}

/// <summary>
/// ONNX Runtime's fused transformer ops, put in place of what <c>torch.onnx</c> writes for them, where ONNX
/// Runtime's own optimizers do not match the exports (docs/precision.md): attention
/// (<see cref="AttentionFusion"/>), then the residual add before each layer norm (<see cref="SkipLayerNormFusion"/>).
/// </summary>
internal static class TransformerFusions
{
    /// <summary>The op types each fusion replaces: one kept in FP32 would no longer be found by the precision rewrite.</summary>
    private static readonly string[] AttentionOps = ["MatMul", "Mul", "Div", "Add", "Softmax", "Transpose"], SkipLayerNormOps = ["Add", "LayerNormalization"];

    /// <summary>
    /// Fuses what matches in <paramref name="model"/>'s main graph, in place; a model with nothing to fuse is
    /// left as it was. A fusion that would replace an op type in <paramref name="keepFp32OpTypes"/> does not run.
    /// </summary>
    public static TransformerFusionReport Run(ModelProto model, IReadOnlyCollection<string>? keepFp32OpTypes = null)
    {
        var kept = keepFp32OpTypes ?? [];
        bool Allowed(string[] ops) => !ops.Any(kept.Contains);
        var graph = new FusionGraph(model);
        var skipped = new[] { Allowed(AttentionOps) ? null : "attention", Allowed(SkipLayerNormOps) ? null : "residual layer norms" }.OfType<string>().ToList();
        var report = new TransformerFusionReport(
            Allowed(AttentionOps) ? AttentionFusion.Fuse(graph) : 0,
            Allowed(SkipLayerNormOps) ? SkipLayerNormFusion.Fuse(graph) : 0,
            skipped.Count == 0 ? null : $"Not fused, as KeepFp32OpTypes keeps one of their ops in FP32: {string.Join(", ", skipped)}.");
        if (report.Changed)
            graph.Finish();
        return report;
    }
}
