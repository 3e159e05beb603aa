namespace BatchScoring;

/// <summary>What the job does with a row it cannot feed the model faithfully.</summary>
public enum BadRowPolicy
{
    /// <summary>Stop at the first bad row, naming its file, line or row, column and value (the default).</summary>
    Stop,

    /// <summary>Go on: write the row, with the reason, to &lt;output&gt;.rejects.csv and count it in the summary.</summary>
    Skip,
}

/// <summary>Where a bad row is: a CSV line, a Parquet row group and row, or an image file.</summary>
/// <param name="SourceRow">The row's position in the input (CSV: its line number; Parquet: its row index; images: the file's index), for ordering rejects.</param>
/// <param name="Where">The position as people read it, e.g. "line 12" or "row group 3, row 7".</param>
public sealed record BadRow(long SourceRow, string File, string Where, string? Column, string? Value, string Reason)
{
    public string Describe() =>
        $"{File}, {Where}{(Column is null ? "" : $", column '{Column}'")}{(Value is null ? "" : $", value '{Shorten(Value)}'")}: {Reason}";

    private static string Shorten(string value) => value.Length <= 60 ? value : value[..57] + "...";
}

/// <summary>A bad row under <see cref="BadRowPolicy.Stop"/>.</summary>
public sealed class BadRowException(BadRow row) : Exception($"Bad row in {row.Describe()}")
{
    public BadRow Row { get; } = row;
}

/// <summary>
/// Where the input readers report bad rows. Under <see cref="BadRowPolicy.Stop"/> a report throws;
/// under <see cref="BadRowPolicy.Skip"/> it is held until the output commits past it (readers run a
/// few batches ahead of what is written, and a resumed run must not report a row twice).
/// </summary>
public sealed class BadRowSink(BadRowPolicy policy)
{
    private readonly List<BadRow> _pending = [];

    public BadRowPolicy Policy => policy;

    public void Report(BadRow row)
    {
        if (policy == BadRowPolicy.Stop)
            throw new BadRowException(row);
        lock (_pending)
            _pending.Add(row);
    }

    /// <summary>The rows reported before source row <paramref name="sourceRow"/>, in input order; null takes them all.</summary>
    public List<BadRow> TakeBefore(long? sourceRow)
    {
        lock (_pending)
        {
            var count = sourceRow is { } limit ? _pending.TakeWhile(r => r.SourceRow < limit).Count() : _pending.Count;
            var taken = _pending.GetRange(0, count);
            _pending.RemoveRange(0, count);
            return taken;
        }
    }
}
