using BatchScoring.Tests.Support;
using Parquet;

namespace BatchScoring.Tests;

/// <summary>
/// Data the model cannot be fed faithfully is never scored silently: by default the job stops at the
/// first bad row (exit 4) naming file, line or row, column and value; --bad-rows skip writes such rows
/// to &lt;output&gt;.rejects.csv and counts them; missing float cells are counted in the summary.
/// </summary>
public sealed class BadRowTests : IDisposable
{
    private readonly TestFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private JobResult Score(string input, string model, params string[] more) =>
        Job.Run(_folder.Path, ["-i", input, "-m", model, "-o", "out/scores.csv", .. more]);

    [Fact]
    public void ANonNumericCellStopsNamingFileLineColumnAndValue()
    {
        var csv = Inputs.MlpCsv(_folder["in.csv"], 100, (i, j) => i == 50 && j == 7 ? "abc" : null);

        var result = Score(csv, Models.Mlp);

        Assert.True(result.ExitCode == 4, result.ToString());
        var error = Assert.Single(result.Errors);
        Expect.Contains("'in.csv', line 52, column 'features_7', value 'abc': not a number", error);
        Expect.Contains("--bad-rows skip", error);
        Assert.Empty(_folder.Listing("out"));
    }

    [Fact]
    public void AShortRowStops()
    {
        var csv = Inputs.MlpCsv(_folder["in.csv"], 40);
        var lines = File.ReadAllLines(csv);
        lines[31] = string.Join(',', lines[31].Split(',')[..^2]);
        File.WriteAllLines(csv, lines);

        var result = Score(csv, Models.Mlp);

        Assert.Equal(4, result.ExitCode);
        Expect.Contains("'in.csv', line 32: 19 fields, but the header names 21 columns", Assert.Single(result.Errors));
        Assert.Empty(_folder.Listing("out"));
    }

    [Fact]
    public void AnEmptyInt64CellIsAnError()
    {
        var csv = _folder["multi.csv"];
        var header = "ids_0,ids_1,ids_2,ids_3,dense_0,dense_1,dense_2,dense_3,dense_4,dense_5,dense_6,dense_7,count,flag,weights64_0,weights64_1";
        File.WriteAllLines(csv, [header, "1,2,3,4,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,2,true,1.5,2.5", "1,2,,4,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,2,false,1.5,2.5"]);

        var result = Score(csv, Models.MultiIo);

        Assert.Equal(4, result.ExitCode);
        var error = Assert.Single(result.Errors);
        Expect.Contains("'multi.csv', line 3, column 'ids_2', value '': empty, and an integer or bool input has no missing value", error);
        Expect.Contains("'ids' int64", error);
    }

    [Fact]
    public void ATruncatedJpegStopsOrIsRejected()
    {
        var images = Inputs.Images(_folder["images"], 6, size: 64);
        var jpeg = Path.Combine(images, "img-003.jpg");
        var bytes = File.ReadAllBytes(jpeg);
        // Past the headers, so the file opens as a JPEG and only its pixel data ends early.
        File.WriteAllBytes(jpeg, bytes[..(bytes.Length * 3 / 4)]);

        var stopped = Score(images, Models.Image);
        Assert.True(stopped.ExitCode == 4, stopped.ToString());
        Expect.Contains("'img-003.jpg', image 4 of the folder: the JPEG ends before its last pixels", Assert.Single(stopped.Errors));

        var skipped = Score(images, Models.Image, "--bad-rows", "skip");
        Assert.True(skipped.ExitCode == 0, skipped.ToString());
        Assert.Equal("5", skipped.Summary["rows"]);
        Assert.Equal("1", skipped.Summary["rejected"]);
        Assert.DoesNotContain(OutputFiles.ReadCsv(_folder["out/scores.csv"]), row => row[0] == "img-003.jpg");
        var rejects = File.ReadAllLines(_folder["out/scores.csv.rejects.csv"]);
        Assert.Equal("file,position,column,value,reason", rejects[0]);
        Expect.Contains("img-003.jpg,image 4 of the folder,,,\"the JPEG ends before its last pixels", Assert.Single(rejects[1..]));
    }

    [Fact]
    public void SkipWritesBadRowsToRejectsAndCountsThem()
    {
        var csv = Inputs.MlpCsv(_folder["in.csv"], 30, (i, j) => (i, j) switch { (4, 0) => "x1", (9, 19) => "1e999", _ => null });
        var lines = File.ReadAllLines(csv);
        lines[21] += ",extra";
        File.WriteAllLines(csv, lines);

        var result = Score(csv, Models.Mlp, "--bad-rows", "skip");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("27", result.Summary["rows"]);
        Assert.Equal("3", result.Summary["rejected"]);
        var rejects = File.ReadAllLines(_folder["out/scores.csv.rejects.csv"]);
        Assert.True(rejects.Length == 4, string.Join("\n", rejects));
        // The reason names the input, whose shape has a comma: the field is quoted.
        Assert.StartsWith("in.csv,line 6,features_0,x1,\"not a number; it feeds the model's input 'features' float [?,20]\"", rejects[1]);
        Assert.StartsWith("in.csv,line 11,features_19,1e999,\"out of the range of float;", rejects[2]);
        Assert.StartsWith("in.csv,line 22,,,\"22 fields, but the header names 21 columns", rejects[3]);
        var ids = OutputFiles.ReadCsv(_folder["out/scores.csv"]).Select(r => r[0]).ToList();
        Assert.Equal(Enumerable.Range(0, 30).Where(i => i is not (4 or 9 or 20)).Select(i => $"r{i}"), ids);
        Assert.Equal(["scores.csv", "scores.csv.rejects.csv"], _folder.Listing("out"));
    }

    [Fact]
    public void EmptyAndNaNFloatCellsAreCounted()
    {
        var csv = Inputs.MlpCsv(_folder["in.csv"], 10, (i, j) => (i, j) switch { (2, 5) => "", (7, 1) => "NaN", (7, 2) => " ", _ => null });

        var result = Score(csv, Models.Mlp);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("10", result.Summary["rows"]);
        Assert.Equal("3", result.Summary["missing_cells"]);
        Assert.Contains("Missing float cells", result.Output);
    }

    [Fact]
    public void FeedingByPositionWarnsNamingTheColumns()
    {
        var csv = Inputs.MlpCsv(_folder["in.csv"], 5, header: "a");

        var result = Score(csv, Models.Mlp);

        Assert.True(result.ExitCode == 0, result.ToString());
        var warning = Assert.Single(result.Warnings);
        Expect.Contains("No column of 'in.csv' is named after the model's input 'features'", warning);
        Expect.Contains("'a_0'", warning);
        Expect.Contains("fed by position", warning);
    }

    [Fact]
    public void NaNBytesInAParquetFileAreCounted()
    {
        var parquet = Inputs.MlpParquet(_folder["in.parquet"], 50, 25, CompressionMethod.None);
        // Uncompressed and plain, a float is its 4 bytes in the file: make row 30's feature 3 all ones (a NaN).
        var bytes = File.ReadAllBytes(parquet);
        var at = bytes.AsSpan().IndexOf(BitConverter.GetBytes(Inputs.Value(30, 3)));
        Assert.True(at > 0);
        bytes.AsSpan(at, 4).Fill(0xFF);
        File.WriteAllBytes(parquet, bytes);

        var result = Score(parquet, Models.Mlp);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("50", result.Summary["rows"]);
        Assert.Equal("1", result.Summary["missing_cells"]);
    }

    [Fact]
    public void CorruptBytesInAParquetRowGroupStopOrAreRejected()
    {
        var parquet = Inputs.MlpParquet(_folder["in.parquet"], 60, 20);
        var pageOffset = OutputFiles.DataPageOffset(parquet, group: 1, column: 1);
        var bytes = File.ReadAllBytes(parquet);
        new Random(3).NextBytes(bytes.AsSpan((int)pageOffset, 24));
        File.WriteAllBytes(parquet, bytes);

        var stopped = Score(parquet, Models.Mlp);
        Assert.True(stopped.ExitCode == 4, stopped.ToString());
        Expect.Contains("'in.parquet', row group 1, row 0 (row 20 of the file), column 'features': the row group cannot be decoded", Assert.Single(stopped.Errors));

        var skipped = Score(parquet, Models.Mlp, "--bad-rows", "skip");
        Assert.True(skipped.ExitCode == 0, skipped.ToString());
        Assert.Equal("40", skipped.Summary["rows"]);
        Assert.Equal("20", skipped.Summary["rejected"]);
        Assert.Equal(Enumerable.Range(0, 60).Where(i => i is < 20 or >= 40).Select(i => $"r{i}"), OutputFiles.ReadCsv(_folder["out/scores.csv"]).Select(r => r[0]));
    }
}
