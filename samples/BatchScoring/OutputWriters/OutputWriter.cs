using BatchScoring.Output;

namespace BatchScoring.OutputWriters;

/// <summary>The committed end of an output file: its length, and for Parquet the footer that closes it there.</summary>
public readonly record struct CommitPoint(long Bytes, string? ParquetFooter);

/// <summary>
/// Writes scored rows into one file, in parts: <see cref="CommitAsync"/> makes every row written so far
/// durable (flushed to disk, the file whole up to there) and says where the committed file ends, so a
/// resumed run can reopen it at that point and append.
/// </summary>
public abstract class OutputWriter : IAsyncDisposable
{
    public abstract ValueTask WriteRowAsync();

    public abstract ValueTask<CommitPoint> CommitAsync();

    public abstract ValueTask DisposeAsync();

    /// <param name="resumeAt">Null for a new file; else the committed point of the file to continue.</param>
    public static async Task<OutputWriter> OpenAsync(OutputFormat format, string path, IReadOnlyList<ColumnReader> columns, CommitPoint? resumeAt) =>
        format == OutputFormat.Csv
            ? new CsvOutputWriter(path, columns, resumeAt)
            : await ParquetOutputWriter.OpenAsync(path, columns, resumeAt);
}
