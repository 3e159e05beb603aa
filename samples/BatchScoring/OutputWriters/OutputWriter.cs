using System.Diagnostics;
using Microsoft.ML;

namespace BatchScoring.OutputWriters;

/// <summary>
/// Streams the scored rows from one cursor into a file, by the file's extension. Rows go to
/// '&lt;file&gt;.partial' first and the file appears only when every row is written, so a failed or
/// cancelled run leaves no half-written output behind.
/// </summary>
public abstract class OutputWriter : IAsyncDisposable
{
    public static readonly string[] Extensions = [".parquet", ".csv"];

    /// <summary>Throws a <see cref="UsageException"/> when the output's extension names no format this job writes.</summary>
    public static void CheckExtension(string path)
    {
        var extension = Path.GetExtension(path).ToLowerInvariant();
        if (!Extensions.Contains(extension))
            throw new UsageException($"The output '{path}' has the extension '{extension}': give a .parquet or .csv file.");
    }

    private static readonly TimeSpan ReportEvery = TimeSpan.FromMilliseconds(100);

    protected abstract ValueTask WriteRowAsync();

    protected abstract ValueTask CompleteAsync();

    public abstract ValueTask DisposeAsync();

    /// <summary>Writes <paramref name="columns"/> of every row of <paramref name="data"/>; returns the rows written.</summary>
    public static async Task<long> WriteAsync(IDataView data, IReadOnlyList<string> columns, string path, Action<long> progress, CancellationToken cancel)
    {
        CheckExtension(path);
        var schemaColumns = columns.Select(c => data.Schema[c]).ToList();
        var partial = path + ".partial";
        long rows = 0;
        var lastReport = Stopwatch.GetTimestamp();
        try
        {
            using (var cursor = data.GetRowCursor(schemaColumns))
            {
                var readers = schemaColumns.Select(c => ColumnReader.Create(cursor, c)).ToList();
                await using var writer = Path.GetExtension(path).Equals(".csv", StringComparison.OrdinalIgnoreCase)
                    ? (OutputWriter)new CsvOutputWriter(partial, readers)
                    : new ParquetOutputWriter(partial, readers);
                // The first MoveNext scores the first batch; later ones mostly serve rows from a batch already scored.
                while (cursor.MoveNext())
                {
                    cancel.ThrowIfCancellationRequested();
                    foreach (var reader in readers)
                        reader.Fetch();
                    await writer.WriteRowAsync();
                    rows++;
                    if (Stopwatch.GetElapsedTime(lastReport) > ReportEvery)
                    {
                        progress(rows);
                        lastReport = Stopwatch.GetTimestamp();
                    }
                }
                await writer.CompleteAsync();
            }
            progress(rows);
            File.Move(partial, path, overwrite: true);
            return rows;
        }
        catch
        {
            File.Delete(partial);
            throw;
        }
    }
}
