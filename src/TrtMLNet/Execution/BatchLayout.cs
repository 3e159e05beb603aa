namespace TrtMLNet.Execution;

/// <summary>
/// Where every tensor of one batch lies in a block of memory: inputs, then outputs, each aligned to
/// 256 bytes (what TensorRT asks of tensor addresses). Host staging and a lane's device IO buffers
/// use the same layout, so a tensor sits at the same offset in both and a copy never recomputes it.
/// </summary>
internal sealed class BatchLayout
{
    public const long Alignment = 256;

    public BatchLayout(IEnumerable<long> inputBytes, IEnumerable<long> outputBytes)
    {
        long offset = 0;
        InputOffsets = inputBytes.Select(bytes => Advance(ref offset, bytes)).ToArray();
        OutputOffsets = outputBytes.Select(bytes => Advance(ref offset, bytes)).ToArray();
        TotalBytes = offset;
    }

    public IReadOnlyList<long> InputOffsets { get; }

    public IReadOnlyList<long> OutputOffsets { get; }

    /// <summary>Bytes of one batch: a staging slot, and the device IO buffers a lane needs for it.</summary>
    public long TotalBytes { get; }

    public static long AlignUp(long bytes) => (bytes + Alignment - 1) & ~(Alignment - 1);

    private static long Advance(ref long offset, long bytes)
    {
        var at = offset;
        offset = checked(offset + AlignUp(bytes));
        return at;
    }
}
