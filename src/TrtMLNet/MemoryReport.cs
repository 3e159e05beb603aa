using System.Text;

namespace TrtMLNet;

/// <summary>
/// Where one device's memory goes, as the backends state it and as the driver measures it. A figure a
/// backend does not state (ONNX Runtime keeps its activations and contexts to itself) is null, "not
/// known", never zero; totals then count only what is known and say so.
/// </summary>
public sealed class MemoryReport
{
    /// <summary>The device, e.g. "GPU 0 (NVIDIA H100 80GB HBM3)" or "CPU".</summary>
    public required string Device { get; init; }

    public required IReadOnlyList<EngineMemory> Engines { get; init; }

    /// <summary>Device IO buffers per lane (zero on the CPU, where staging serves as IO).</summary>
    public required IReadOnlyList<long> LaneIoBytes { get; init; }

    public required int ScratchSlabs { get; init; }

    /// <summary>Size of each shared scratch slab: the largest need among the engines sharing them.</summary>
    public required long ScratchSlabBytes { get; init; }

    /// <summary>Host staging memory (pinned on a GPU) held by the device's pool.</summary>
    public required long PinnedHostBytes { get; init; }

    /// <summary>
    /// Weights + persistent context memory + shared scratch slabs + context-owned scratch + lane IO + image
    /// decoders: what this layout takes on the device, counting the terms that are known.
    /// </summary>
    public long SharedTotalBytes =>
        Engines.Sum(e => (e.WeightsBytes ?? 0) + e.Contexts.Sum(c => (c.PersistentBytes ?? 0) + (c.OwnScratchBytes ?? 0)) + e.DecoderDeviceBytes)
        + ScratchSlabs * ScratchSlabBytes + LaneIoBytes.Sum();

    /// <summary>The same with every context owning scratch for its profile, as TensorRT's default allocation would.</summary>
    public long NaiveTotalBytes =>
        Engines.Sum(e => (e.WeightsBytes ?? 0) + e.Contexts.Sum(c => (c.PersistentBytes ?? 0) + (c.ScratchNeedBytes ?? 0)) + e.DecoderDeviceBytes)
        + LaneIoBytes.Sum();

    /// <summary>False when a backend did not state some term, so the totals are lower bounds.</summary>
    public bool TotalsComplete => Engines.All(e => e.WeightsBytes is not null && e.Contexts.All(c => c.PersistentBytes is not null && c.ScratchNeedBytes is not null));

    /// <summary>
    /// Device memory taken since the device's first current user (engine or pool) began, before anything
    /// of it was loaded, as cuMemGetInfo sees it: all allocations on the device, by any code in any
    /// process, ONNX Runtime's arena included. Null on the CPU.
    /// </summary>
    public long? MeasuredDeviceBytes { get; init; }

    /// <summary>Total device memory; null on the CPU.</summary>
    public long? DeviceTotalBytes { get; init; }

    public override string ToString()
    {
        var text = new StringBuilder();
        text.AppendLine($"Memory on {Device}");
        foreach (var engine in Engines)
        {
            text.AppendLine($"  {engine.Model} ({engine.Backend})");
            text.AppendLine($"    weights                 {Bytes.Format(engine.WeightsBytes),14}  (stated {Bytes.Format(engine.WeightsStatedBytes)}, measured " +
                $"{Bytes.Format(engine.WeightsMeasuredBytes)})");
            foreach (var context in engine.Contexts)
            {
                var scratch = context.OwnScratchBytes is { } own ? $", owns {Bytes.Format(own)}" : engine.SharesScratch ? ", from the shared slabs" : "";
                text.AppendLine($"    context {context.Index,2} (profile {context.Profile}) persistent {Bytes.Format(context.PersistentBytes),8}, scratch need " +
                    $"{Bytes.Format(context.ScratchNeedBytes)}{scratch}");
            }
            if (engine.DecoderDeviceBytes + engine.DecoderPinnedHostBytes > 0)
                text.AppendLine($"    image decoders          {Bytes.Format(engine.DecoderDeviceBytes),14}  " +
                    $"(and {Bytes.Format(engine.DecoderPinnedHostBytes)} pinned on the host)");
        }
        text.AppendLine($"  scratch slabs           {ScratchSlabs} x {Bytes.Format(ScratchSlabBytes)}");
        for (var i = 0; i < LaneIoBytes.Count; i++)
            text.AppendLine($"  lane {i} IO buffers       {Bytes.Format(LaneIoBytes[i]),14}");
        text.AppendLine($"  pinned host staging     {Bytes.Format(PinnedHostBytes),14}");
        var bound = TotalsComplete ? "" : " (at least: some terms not known)";
        text.AppendLine($"  total, shared scratch   {Bytes.Format(SharedTotalBytes),14}{bound}");
        text.AppendLine($"  total, naive            {Bytes.Format(NaiveTotalBytes),14}{bound}");
        text.Append($"  measured on the device  {Bytes.Format(MeasuredDeviceBytes),14}");
        return text.ToString();
    }
}

/// <summary>One engine's memory.</summary>
public sealed class EngineMemory
{
    public required string Model { get; init; }

    public required string Backend { get; init; }

    /// <summary>Stated weights, else measured; null when neither is known.</summary>
    public long? WeightsBytes => WeightsStatedBytes ?? WeightsMeasuredBytes;

    public long? WeightsStatedBytes { get; init; }

    public long? WeightsMeasuredBytes { get; init; }

    public bool SharesScratch { get; init; }

    public required IReadOnlyList<ContextMemory> Contexts { get; init; }

    /// <summary>
    /// Device memory of its image inputs' GPU decoders: decoded images, the resize kernels' buffers and nvJPEG's
    /// buffers as nvJPEG reports them (they grow to the largest images decoded and stay). nvJPEG's hardware engine and
    /// its decoder states keep more that it does not report. Zero without GPU decoding.
    /// </summary>
    public long DecoderDeviceBytes { get; init; }

    /// <summary>Pinned host memory of the same decoders (nvJPEG's staging of each hybrid-decoder slot, the tap tables).</summary>
    public long DecoderPinnedHostBytes { get; init; }
}

/// <summary>One execution context's memory.</summary>
public sealed class ContextMemory
{
    public int Index { get; init; }

    public int Profile { get; init; }

    /// <summary>
    /// Memory the context holds for its life, measured around its creation (no API states it); null
    /// when not known. What a backend allocates later, on the context's first run, is not in this figure
    /// but is in <see cref="MemoryReport.MeasuredDeviceBytes"/>.
    /// </summary>
    public long? PersistentBytes { get; init; }

    /// <summary>Scratch an execution on this context's profile needs, as the backend states it; null when not known.</summary>
    public long? ScratchNeedBytes { get; init; }

    /// <summary>Scratch the context owns when scratch is not shared.</summary>
    public long? OwnScratchBytes { get; init; }
}
