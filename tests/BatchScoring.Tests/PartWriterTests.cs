using BatchScoring.InputSources;
using BatchScoring.Output;
using BatchScoring.Tests.Support;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace BatchScoring.Tests;

/// <summary>PartWriter opens its files beside the first batch; a first batch that fails must not leave them open.</summary>
public sealed class PartWriterTests : IDisposable
{
    private readonly TestFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private sealed class ScoredRow
    {
        public float Score { get; set; }

        [ColumnName(RowTracking.Row)]
        public long Row { get; set; }

        [ColumnName(RowTracking.ResumeAt)]
        public long ResumeAt { get; set; }

        [ColumnName(RowTracking.Missing)]
        public int Missing { get; set; }
    }

    [Theory]
    [InlineData(OutputFormat.Parquet)]
    [InlineData(OutputFormat.Csv)]
    public async Task AFirstBatchThatFailsLeavesNoFileOpen(OutputFormat format)
    {
        var ml = new MLContext(seed: 1);
        var rows = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 10).Select(i => new ScoredRow { Score = i, Row = i, ResumeAt = i + 1 }));
        // A filter runs in MoveNext, as TrtMLNet's cursor scores its first batch there.
        var failing = ml.Data.FilterByCustomPredicate<ScoredRow>(rows, _ => throw new InvalidOperationException("the first batch failed"));
        var target = new OutputTarget(_folder["out" + (format == OutputFormat.Csv ? ".csv" : ".parquet")], format, null, ShardSpec.Whole);
        var manifest = new ResumeManifest { Fingerprint = [], TempFile = ".out.tmp", RejectsTempFile = ".out.rejects.tmp" };
        var writer = new PartWriter(target, manifest, commitEvery: 100, new BadRowSink(BadRowPolicy.Stop));

        var error = await Assert.ThrowsAnyAsync<Exception>(() => writer.WriteAsync(failing, ["Score"], _ => { }, CancellationToken.None));

        Assert.Contains("the first batch failed", error.ToString());
        Assert.True(File.Exists(writer.TempPath), "the output file was opened beside the first batch");
        // FileShare.None takes an exclusive lock: it fails while the writer still holds the file.
        using var reopened = new FileStream(writer.TempPath, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
    }
}
