namespace TrtMLNet.Onnx;

/// <summary>
/// What <see cref="PrecisionRewrite"/> did to a model. <see cref="GraphConversion"/> counts into it as it
/// goes, so the counts have one home; readers get it only once the conversion has finished.
/// </summary>
internal sealed class PrecisionRewriteReport(ReducedPrecision target)
{
    public ReducedPrecision Target { get; } = target;

    /// <summary>False when the model came back as it was (byte for byte); <see cref="UnchangedReason"/> says why.</summary>
    public bool Changed { get; internal set; }

    public string? UnchangedReason { get; internal set; }

    /// <summary>float32 initializers (weights) now in the reduced type.</summary>
    public int ConvertedInitializers { get; internal set; }

    /// <summary>float32 initializers left in float32: every node that reads them is kept in float32.</summary>
    public int Float32Initializers { get; internal set; }

    /// <summary>Tensors of Constant and ConstantOfShape nodes, and float32 tensor attributes of other converted nodes.</summary>
    public int ConvertedConstants { get; internal set; }

    /// <summary>Cast nodes whose target type float32 became the reduced type.</summary>
    public int RetargetedCasts { get; internal set; }

    /// <summary>Cast nodes added: after float32 graph inputs, before float32 graph outputs, around float32-only nodes.</summary>
    public int CastsInserted { get; internal set; }

    /// <summary>Nodes with float32 inputs or outputs that stayed in float32, by op type ("domain::Op" outside the default domain).</summary>
    public IReadOnlyDictionary<string, int> BlockedNodesByOpType => Blocked;

    /// <summary>Weights and constants left float32 because they hold values beyond the reduced type's range; the nodes that read them stay float32.</summary>
    public IReadOnlyCollection<string> OutOfRangeWeights => OutOfRange;

    /// <summary>Weight values clamped to the reduced type's smallest non-zero value (they would have become 0), or from float32's extremes to its largest finite value.</summary>
    public long ClampedValues { get; internal set; }

    internal SortedDictionary<string, int> Blocked { get; } = new(StringComparer.Ordinal);

    internal SortedSet<string> OutOfRange { get; } = new(StringComparer.Ordinal);

    public override string ToString() => !Changed
        ? $"Model left unchanged ({UnchangedReason})."
        : $"Rewritten to {Target.ShortName()}: {ConvertedInitializers} initializers and {ConvertedConstants} constants converted "
          + $"({Float32Initializers} initializers left float32; {OutOfRangeWeights.Count} weights out of range; {ClampedValues} values clamped)," +
            $" {RetargetedCasts} casts retargeted, "
          + $"{CastsInserted} casts inserted; float32 nodes: "
          + (BlockedNodesByOpType.Count == 0 ? "none" : string.Join(", ", BlockedNodesByOpType.Select(p => $"{p.Key} x{p.Value}"))) + ".";
}
