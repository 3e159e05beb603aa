using System.Globalization;

namespace BatchScoring.Running;

/// <summary>
/// The batch size the job asks TrtMLNet for: no more rows than the input has, and only if the
/// buffers for it fit in memory, which is checked before the engine is built so a batch too large is
/// one clear error naming the bytes instead of a failed allocation deep in the library.
/// </summary>
public static class BatchSizing
{
    /// <summary>Input and output buffers of a batch held at once: one per batch read ahead and the one being written.</summary>
    private static int BuffersHeld(int readAhead) => readAhead + 1;

    /// <summary>The batch to use, and a note when it was capped to the rows there are.</summary>
    public static (int Batch, string? Note) Choose(int? asked, int? fixedBatch, bool openBatch, long? rows, int defaultBatch)
    {
        // A model that fixes its batch runs at that size whatever is asked, padding the last batch.
        if (fixedBatch is { } fixedSize && !openBatch)
            return (fixedSize, asked is { } a && a != fixedSize
                ? $"The model fixes its batch at {fixedSize}: --batch-size {a} does not apply (--open-batch opens the batch dimension)."
                : null);
        var batch = asked ?? defaultBatch;
        if (rows is { } n && n >= 1 && batch > n)
            return ((int)n, asked is null ? null : $"--batch-size {asked} is capped to {n:N0}, the rows there are to score.");
        return (batch, null);
    }

    /// <summary>Bytes of one row's model inputs and outputs; null when a dimension after the batch is open.</summary>
    public static long? RowBytes(ModelSignature model, IReadOnlyCollection<string>? outputs)
    {
        long total = 0;
        foreach (var tensor in model.Inputs.Concat(model.Outputs.Where(o => outputs is not { Count: > 0 } || outputs.Contains(o.Name))))
        {
            if (tensor.RowSize is not { } size)
                return null;
            total += (long)size * ElementBytes(tensor.ElementType);
        }
        return total;
    }

    /// <summary>Throws a <see cref="UsageException"/> naming the bytes when a batch of <paramref name="batch"/> rows cannot be held.</summary>
    public static void CheckFits(int batch, ModelSignature model, IReadOnlyCollection<string>? outputs, int readAhead, long availableBytes)
    {
        if (RowBytes(model, outputs) is not { } rowBytes)
            return;
        var widest = model.Inputs.Concat(model.Outputs).Max(t => (long)(t.RowSize ?? 1));
        var perBuffer = (decimal)batch * rowBytes;
        var needed = perBuffer * BuffersHeld(readAhead);
        string Bytes(decimal b) => b.ToString("N0", CultureInfo.InvariantCulture);
        if ((decimal)batch * widest > Array.MaxLength)
            throw new UsageException(
                $"--batch-size {batch} cannot fit: one tensor of the batch would hold {Bytes((decimal)batch * widest)} values, more than the {Bytes(Array.MaxLength)} an array can; " +
                $"the batch asks for {Bytes(needed)} bytes ({batch:N0} rows x {rowBytes:N0} bytes of inputs and outputs x {BuffersHeld(readAhead)} buffers). Pick a smaller --batch-size.");
        if (needed > availableBytes)
            throw new UsageException(
                $"--batch-size {batch} cannot fit: the batch asks for {Bytes(needed)} bytes ({batch:N0} rows x {rowBytes:N0} bytes of inputs and outputs x {BuffersHeld(readAhead)} buffers), " +
                $"more than the {Bytes(availableBytes)} bytes this process may use. Pick a smaller --batch-size.");
    }

    private static int ElementBytes(Type t) =>
        t == typeof(double) || t == typeof(long) ? 8 : t == typeof(byte) || t == typeof(bool) ? 1 : t == typeof(Half) ? 2 : 4;
}
