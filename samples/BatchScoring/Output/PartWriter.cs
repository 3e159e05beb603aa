using System.Diagnostics;
using BatchScoring.InputSources;
using BatchScoring.OutputWriters;
using Microsoft.ML;

namespace BatchScoring.Output;

/// <summary>
/// Streams the scored rows into the run's temporary output and commits it every
/// <see cref="CommitEvery"/> rows: the output is flushed to disk, the rejects found before the last
/// written row are written and flushed, and the manifest records it all. A kill at any moment leaves
/// the last commit to resume from. Cancellation stops between rows, leaving the unfinished part for a
/// resumed run to cut off.
/// </summary>
public sealed class PartWriter(OutputTarget target, ResumeManifest manifest, int commitEvery, BadRowSink badRows)
{
    private static readonly TimeSpan ReportEvery = TimeSpan.FromMilliseconds(100);

    public int CommitEvery => commitEvery;

    /// <summary>The manifest as last saved: what the committed parts hold.</summary>
    public ResumeManifest Manifest { get; private set; } = manifest;

    /// <summary>When, after <see cref="WriteAsync"/> began, the cursor opened and the first and last rows came back scored.</summary>
    public WriteTimeline Timeline { get; } = new();

    public string TempPath => Path.Combine(target.Folder, Manifest.TempFile);

    public string RejectsTempPath => Path.Combine(target.Folder, Manifest.RejectsTempFile);

    /// <summary>
    /// Writes <paramref name="columns"/> of every row of <paramref name="scored"/>; returns the parts
    /// committed in the end. <paramref name="progress"/> gets the rows written by this run (a resumed
    /// run's committed rows not counted). Rows whose image TrtMLNet skipped (<paramref name="skippedImages"/>)
    /// are reported as bad rows and not written.
    /// </summary>
    public async Task<CommittedParts> WriteAsync(IDataView scored, IReadOnlyList<string> columns, Action<long> progress, CancellationToken cancel,
        SkippedImageRows? skippedImages = null)
    {
        Timeline.Start();
        var committed = Manifest.Committed;
        var resumed = committed.Parts > 0;
        var schemaColumns = columns.Select(c => scored.Schema[c]).ToList();
        using var cursor = scored.GetRowCursor(schemaColumns.Concat(RowTracking.Names.Select(n => scored.Schema[n])));
        var readers = schemaColumns.Select(c => ColumnReader.Create(cursor, c)).ToList();
        var rowGetter = cursor.GetGetter<long>(scored.Schema[RowTracking.Row]);
        var resumeGetter = cursor.GetGetter<long>(scored.Schema[RowTracking.ResumeAt]);
        var missingGetter = cursor.GetGetter<int>(scored.Schema[RowTracking.Missing]);
        Timeline.CursorOpen = Timeline.Elapsed;

        // The first MoveNext scores the first batch; later ones mostly serve rows from a batch already scored.
        // The files open on another thread meanwhile: in a fresh process Parquet's first file took 28-40 ms on the
        // 2-core machine, the first batch 30-40 ms on the H200 (docs/benchmarks.md, "Tenth session").
        var opening = Task.Run(() => OpenFilesAsync(readers, committed, resumed));
        bool more;
        try
        {
            more = cursor.MoveNext();
        }
        catch
        {
            await CloseWhenOpenAsync(opening);
            throw;
        }
        var (rejectsFile, outputFile) = await opening;
        using var rejects = rejectsFile;
        await using var writer = outputFile;

        long rows = committed.Rows, missing = committed.MissingCells, inPart = 0;
        long? lastRow = committed.LastRow, resumeAt = committed.ResumeAt;
        var lastReport = Stopwatch.GetTimestamp();
        for (; more; more = cursor.MoveNext())
        {
            Timeline.FirstRow ??= Timeline.Elapsed;
            cancel.ThrowIfCancellationRequested();
            if (skippedImages?.Find(cursor.Position) is { } bad)
            {
                badRows.Report(bad);
                continue;
            }
            foreach (var reader in readers)
                reader.Fetch();
            await writer.WriteRowAsync();
            long row = 0, next = 0;
            var rowMissing = 0;
            rowGetter(ref row);
            resumeGetter(ref next);
            missingGetter(ref rowMissing);
            (lastRow, resumeAt) = (row, next);
            missing += rowMissing;
            rows++;
            if (++inPart == commitEvery)
            {
                await CommitAsync(writer, rejects, rows, missing, lastRow, resumeAt, final: false);
                inPart = 0;
            }
            if (Stopwatch.GetElapsedTime(lastReport) > ReportEvery)
            {
                progress(rows - committed.Rows);
                lastReport = Stopwatch.GetTimestamp();
            }
        }
        Timeline.LastRow = Timeline.Elapsed;
        cancel.ThrowIfCancellationRequested();
        await CommitAsync(writer, rejects, rows, missing, lastRow, resumeAt, final: true);
        progress(rows - committed.Rows);
        return Manifest.Committed;
    }

    private async Task<(RejectsWriter Rejects, OutputWriter Output)> OpenFilesAsync(IReadOnlyList<ColumnReader> readers, CommittedParts committed, bool resumed)
    {
        var rejects = new RejectsWriter(RejectsTempPath, committed.RejectsBytes, committed.Rejected);
        try
        {
            var output = await OutputWriter.OpenAsync(target.Format, TempPath, readers,
                resumed ? new CommitPoint(committed.OutputBytes, committed.ParquetFooter) : null);
            return (rejects, output);
        }
        catch
        {
            rejects.Dispose();
            throw;
        }
    }

    /// <summary>After the first batch failed: closes the files once open. Their own error, if any, is not the one to report.</summary>
    private static async Task CloseWhenOpenAsync(Task<(RejectsWriter Rejects, OutputWriter Output)> opening)
    {
        try
        {
            var (rejects, output) = await opening;
            await output.DisposeAsync();
            rejects.Dispose();
        }
        catch (Exception)
        {
            // The first batch's error is the one the caller gets; one opening the files as well adds nothing to act on.
        }
    }

    private async Task CommitAsync(OutputWriter writer, RejectsWriter rejects, long rows, long missing, long? lastRow, long? resumeAt, bool final)
    {
        var point = await writer.CommitAsync();
        // Rejects after the last written row stay pending: a resumed run reads those rows again.
        rejects.Write(badRows.TakeBefore(final ? null : lastRow));
        var rejectsBytes = rejects.Commit();
        Manifest = Manifest with
        {
            Committed = new CommittedParts
            {
                Parts = Manifest.Committed.Parts + 1,
                Rows = rows,
                Rejected = rejects.Rows,
                MissingCells = missing,
                LastRow = lastRow,
                ResumeAt = resumeAt,
                OutputBytes = point.Bytes,
                ParquetFooter = point.ParquetFooter,
                RejectsBytes = rejectsBytes,
                Final = final,
            },
        };
        Manifest.Save(target.ManifestPath);
    }
}
