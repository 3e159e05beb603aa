using BatchScoring.InputSources;
using BatchScoring.Output;
using BatchScoring.OutputWriters;
using BatchScoring.Running;
using BatchScoring.Tests.Support;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace BatchScoring.Tests;

/// <summary>The job's parts in-process, where that is cheaper than a process: shard ranges, strict cells, batch sizing, a Parquet file cut back and resumed.</summary>
public sealed class CoreTests : IDisposable
{
    private readonly TestFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static readonly ModelSignature s_mlp = new(
        [new TensorSignature("features", typeof(float), [-1, Inputs.Features])],
        [new TensorSignature("scores", typeof(float), [-1, 3])]);

    [Fact]
    public void ShardRangesAreDisjointAndCoverEverything()
    {
        for (var total = 0; total <= 40; total++)
            for (var count = 1; count <= 7; count++)
            {
                var ranges = Enumerable.Range(0, count).Select(i => new ShardSpec(i, count).RangeOf(total)).ToList();
                Assert.Equal(0, ranges[0].Start);
                Assert.Equal(total, ranges[^1].End);
                for (var i = 1; i < count; i++)
                    Assert.Equal(ranges[i - 1].End, ranges[i].Start);
            }
    }

    /// <summary>The rows (by their line numbers) a CSV shard reads through the job's own input code.</summary>
    private static List<long> CsvShardRows(string path, ShardSpec shard, ResumePoint? resume = null)
    {
        var options = new JobOptions { Input = path, Model = "unused.onnx", Output = "unused.csv" };
        var input = CsvInput.Open(options, s_mlp, new InputStart(shard, resume, new BadRowSink(BadRowPolicy.Stop)));
        var rows = new List<long>();
        using var cursor = input.Data.GetRowCursor(input.Data.Schema);
        var getter = cursor.GetGetter<long>(input.Data.Schema[RowTracking.Row]);
        while (cursor.MoveNext())
        {
            long row = 0;
            getter(ref row);
            rows.Add(row);
        }
        return rows;
    }

    [Fact]
    public void CsvShardsSplitTheLinesByBytesWithNoLineTwice()
    {
        // Lines of different lengths (ids r0..r99), so byte boundaries fall inside lines.
        var csv = Inputs.MlpCsv(_folder["in.csv"], 100);
        var all = Enumerable.Range(2, 100).Select(l => (long)l).ToList();
        Assert.Equal(all, CsvShardRows(csv, ShardSpec.Whole));
        for (var count = 2; count <= 9; count++)
            Assert.Equal(all, Enumerable.Range(0, count).SelectMany(i => CsvShardRows(csv, new ShardSpec(i, count))));
    }

    [Fact]
    public void ACsvShardResumesAfterItsLastCommittedLine()
    {
        var csv = Inputs.MlpCsv(_folder["in.csv"], 60);
        var shard = new ShardSpec(1, 3);
        var rows = CsvShardRows(csv, shard);
        // The byte after line rows[4]: where a run that committed five rows of this shard resumes.
        var lines = File.ReadAllLines(csv);
        var after = lines.Take((int)rows[4]).Sum(l => l.Length + 1);

        Assert.Equal(rows.Skip(5), CsvShardRows(csv, shard, new ResumePoint(after, rows[4] + 1)));
    }

    [Fact]
    public void ParquetShardsTakeWholeRowGroupsAndResumeInsideOne()
    {
        long[] groups = [100, 7, 0, 300, 50, 50, 1];
        for (var count = 1; count <= 6; count++)
        {
            var taken = Enumerable.Range(0, count).SelectMany(i => ParquetInput.Groups(groups, new InputStart(new ShardSpec(i, count), null, new BadRowSink(BadRowPolicy.Stop)))).ToList();
            Assert.Equal(groups.Select((n, g) => (g, n)).Where(x => x.n > 0).Select(x => x.g), taken.Where(t => t.Rows > 0).Select(t => t.Index));
        }
        var resumed = ParquetInput.Groups(groups, new InputStart(ShardSpec.Whole, new ResumePoint(150, 150), new BadRowSink(BadRowPolicy.Stop)));
        Assert.Equal(3, resumed[0].Index);
        Assert.Equal(43, resumed[0].Skip);
    }

    [Theory]
    [InlineData("1.5", 1.5f, false, null)]
    [InlineData("", float.NaN, true, null)]
    [InlineData("nan", float.NaN, true, null)]
    [InlineData("-Infinity", float.NegativeInfinity, false, null)]
    [InlineData("1e999", 0f, false, "out of the range of float")]
    [InlineData("3.4e39", 0f, false, "out of the range of float")]
    [InlineData("abc", 0f, false, "not a number")]
    public void FloatCells(string text, float value, bool missing, string? error)
    {
        var cell = CsvFields.Read<float>(text);
        Assert.Equal(error, cell.Error);
        Assert.Equal(missing, cell.Missing);
        if (error is null)
            Assert.Equal(value, cell.Value);
    }

    [Theory]
    [InlineData("42", 42L, null)]
    [InlineData("", 0L, "empty, and an integer or bool input has no missing value")]
    [InlineData("4.5", 0L, "not a whole number")]
    [InlineData("x", 0L, "not a number")]
    [InlineData("99999999999999999999", 0L, "out of the range of int64 (-9223372036854775808..9223372036854775807)")]
    public void Int64Cells(string text, long value, string? error)
    {
        var cell = CsvFields.Read<long>(text);
        Assert.Equal(error, cell.Error);
        if (error is null)
            Assert.Equal(value, cell.Value);
    }

    [Fact]
    public void Int32CellsOutOfRangeAreErrors() =>
        Assert.Equal("out of the range of int32 (-2147483648..2147483647)", CsvFields.Read<int>("3000000000").Error);

    [Fact]
    public void ABatchThatCannotFitNamesTheBytes()
    {
        var e = Assert.Throws<UsageException>(() => BatchSizing.CheckFits(2_000_000_000, s_mlp, null, 2, 16L << 30));
        // 20 + 3 floats a row: 92 bytes; three buffers (two read ahead and the one being written).
        Assert.Equal(
            "--batch-size 2000000000 cannot fit: one tensor of the batch would hold 40,000,000,000 values, more than the 2,147,483,591 an array can; " +
            "the batch asks for 552,000,000,000 bytes (2,000,000,000 rows x 92 bytes of inputs and outputs x 3 buffers). Pick a smaller --batch-size.", e.Message);
        var memory = Assert.Throws<UsageException>(() => BatchSizing.CheckFits(100_000_000, s_mlp, null, 2, 16L << 30));
        Expect.Contains("the batch asks for 27,600,000,000 bytes", memory.Message);
        BatchSizing.CheckFits(4096, s_mlp, null, 2, 16L << 30);
        Assert.Equal((10, "--batch-size 2147483647 is capped to 10, the rows there are to score."), BatchSizing.Choose(int.MaxValue, null, false, 10, 128));
        Assert.Equal((2, null), BatchSizing.Choose(null, 2, false, 1, 128));
        Assert.Equal((1, "The model fixes its batch at 1: --batch-size 2147483647 does not apply (--open-batch opens the batch dimension)."),
            BatchSizing.Choose(int.MaxValue, 1, false, 48, 128));
        Assert.Equal((48, "--batch-size 2147483647 is capped to 48, the rows there are to score."), BatchSizing.Choose(int.MaxValue, 1, true, 48, 128));
    }

    [Fact]
    public async Task AParquetOutputCutBackToItsCommitResumesWhole()
    {
        var mlContext = new MLContext(seed: 0);
        var data = mlContext.Data.LoadFromEnumerable(Enumerable.Range(0, 30).Select(i => new Row { Id = $"r{i}", Scores = [i, i * 2f] }));
        var path = _folder["out.parquet"];
        CommitPoint committed;
        using (var cursor = data.GetRowCursor(data.Schema))
        {
            var readers = data.Schema.Select(c => ColumnReader.Create(cursor, c)).ToList();
            await using var writer = await OutputWriter.OpenAsync(OutputFormat.Parquet, path, readers, null);
            for (var i = 0; i < 20 && cursor.MoveNext(); i++)
            {
                readers.ForEach(r => r.Fetch());
                await writer.WriteRowAsync();
                if (i == 9)
                    committed = await writer.CommitAsync();
            }
            committed = await writer.CommitAsync();
        }
        Assert.Equal(20, OutputFiles.ReadParquet(path).Count);
        // What a kill in the middle of the next part leaves: bytes of a row group over the footer, and no new footer.
        using (var file = new FileStream(path, FileMode.Open))
        {
            file.Position = file.Length - 40;
            file.Write(Enumerable.Range(0, 300).Select(i => (byte)i).ToArray());
        }
        Assert.ThrowsAny<Exception>(() => OutputFiles.ReadParquet(path));

        using (var cursor = data.GetRowCursor(data.Schema))
        {
            var readers = data.Schema.Select(c => ColumnReader.Create(cursor, c)).ToList();
            await using var writer = await OutputWriter.OpenAsync(OutputFormat.Parquet, path, readers, committed);
            var row = 0;
            while (cursor.MoveNext())
            {
                if (row++ < 20)
                    continue;
                readers.ForEach(r => r.Fetch());
                await writer.WriteRowAsync();
            }
            await writer.CommitAsync();
        }
        var rows = OutputFiles.ReadParquet(path);
        Assert.Equal(Enumerable.Range(0, 30).Select(i => $"r{i}"), rows.Select(r => r[0]));
        Assert.Equal("29 58", rows[^1][1]);
        Assert.Equal(3, OutputFiles.ParquetRowGroups(path));
    }

    [Fact]
    public async Task ParquetRowGroupsWrittenBesideTheNextOnesKeepEveryRowInOrder()
    {
        // Three full row groups (each written on a task of its own while the next is gathered), a commit with a
        // group still being written, then a part of a row group: every row, in order, with its values.
        var mlContext = new MLContext(seed: 0);
        var total = 3 * ParquetOutputWriter.MaxRowGroupRows + 5;
        var data = mlContext.Data.LoadFromEnumerable(Enumerable.Range(0, total).Select(i => new Row { Id = $"r{i}", Scores = [i, -i] }));
        var path = _folder["groups.parquet"];
        using (var cursor = data.GetRowCursor(data.Schema))
        {
            var readers = data.Schema.Select(c => ColumnReader.Create(cursor, c)).ToList();
            var size = ParquetOutputWriter.RowGroupRowsFor(readers);
            Assert.Equal(ParquetOutputWriter.MaxRowGroupRows, size);
            await using var writer = await OutputWriter.OpenAsync(OutputFormat.Parquet, path, readers, null);
            for (var i = 0; cursor.MoveNext(); i++)
            {
                readers.ForEach(r => r.Fetch());
                await writer.WriteRowAsync();
                if (i == 2 * size - 1)
                    await writer.CommitAsync();
            }
            await writer.CommitAsync();
        }

        var rows = OutputFiles.ReadParquet(path);
        Assert.Equal(Enumerable.Range(0, total).Select(i => $"r{i}"), rows.Select(r => r[0]));
        Assert.Equal(Enumerable.Range(0, total).Select(i => $"{i} {-i}"), rows.Select(r => r[1]));
        Assert.Equal(4, OutputFiles.ParquetRowGroups(path));
    }

    [Fact]
    public void AShardKilledAfterItsRenameIsRecordedInTheDatasetOnResume()
    {
        // What a kill between putting the part in place and recording it leaves: the part, and the run's manifest.
        var options = new JobOptions { Input = _folder["in.csv"], Model = "m.onnx", Output = _folder["out/"], Shard = new ShardSpec(1, 2), Resume = true };
        var fingerprint = JobFingerprint.Of(options);
        Directory.CreateDirectory(_folder["out"]);
        File.WriteAllText(_folder["out/part-00001-of-00002.parquet"], "the part");
        new ResumeManifest
        {
            Fingerprint = fingerprint,
            TempFile = ".part-00001-of-00002.parquet.abc.tmp",
            RejectsTempFile = ".part-00001-of-00002.parquet.rejects.abc.tmp",
            Committed = new CommittedParts { Parts = 3, Rows = 250 },
        }.Save(_folder["out/_part-00001-of-00002.parquet.manifest.json"]);

        using var session = OutputSession.Open(options, fingerprint);

        Assert.Null(session.Manifest);
        var dataset = DatasetManifest.Load(_folder["out"])!;
        Assert.Equal(250, Assert.Single(dataset.Parts).Rows);
        Assert.False(dataset.Complete);
        Assert.Equal(["_manifest.json", "_part-00001-of-00002.parquet.lock", "part-00001-of-00002.parquet"], _folder.Listing("out"));
    }

    [Fact]
    public void ARunStoppedAfterItsLastCommitIsPutInPlaceNotScoredAgain()
    {
        var options = new JobOptions { Input = _folder["in.csv"], Model = "m.onnx", Output = _folder["out/s.csv"] };
        var fingerprint = JobFingerprint.Of(options);
        Directory.CreateDirectory(_folder["out"]);
        File.WriteAllText(_folder["out/.s.csv.abc.tmp"], "id,scores\nr0,1\n");
        new ResumeManifest
        {
            Fingerprint = fingerprint,
            TempFile = ".s.csv.abc.tmp",
            RejectsTempFile = ".s.csv.rejects.abc.tmp",
            Committed = new CommittedParts { Parts = 1, Rows = 1, Final = true },
        }.Save(_folder["out/s.csv.manifest.json"]);

        using (var session = OutputSession.Open(options, fingerprint))
        {
            Assert.Null(session.Manifest);
            Assert.Contains("had committed every row", Assert.Single(session.Notes));
        }
        Assert.Equal("id,scores\nr0,1\n", File.ReadAllText(_folder["out/s.csv"]));
        Assert.Equal(["s.csv"], _folder.Listing("out"));
    }

    [Fact]
    public async Task WideRowsGoInRowGroupsOfAboutFourMebibytes()
    {
        // 2,048 floats a row (8 KiB): 512 rows a group, so the last group, written while the run waits, stays small.
        var mlContext = new MLContext(seed: 0);
        var data = mlContext.Data.LoadFromEnumerable(Enumerable.Range(0, 1100).Select(i => new WideRow { Scores = Enumerable.Repeat((float)i, 2048).ToArray() }));
        var path = _folder["wide.parquet"];
        using (var cursor = data.GetRowCursor(data.Schema))
        {
            var readers = data.Schema.Select(c => ColumnReader.Create(cursor, c)).ToList();
            Assert.Equal(512, ParquetOutputWriter.RowGroupRowsFor(readers));
            await using var writer = await OutputWriter.OpenAsync(OutputFormat.Parquet, path, readers, null);
            while (cursor.MoveNext())
            {
                readers.ForEach(r => r.Fetch());
                await writer.WriteRowAsync();
            }
            await writer.CommitAsync();
        }
        var rows = OutputFiles.ReadParquet(path);
        Assert.Equal(1100, rows.Count);
        Assert.StartsWith("1099 1099 ", rows[^1][0]);
        Assert.Equal(3, OutputFiles.ParquetRowGroups(path));
    }

    private sealed class WideRow
    {
        [VectorType(2048)]
        public float[] Scores { get; set; } = [];
    }

    private sealed class Row
    {
        public string Id { get; set; } = "";

        [VectorType(2)]
        public float[] Scores { get; set; } = [];
    }
}
