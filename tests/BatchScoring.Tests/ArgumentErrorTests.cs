using BatchScoring.Tests.Support;

namespace BatchScoring.Tests;

/// <summary>
/// Every argument the parser or the checks refuse: one line on stderr, exit code 2, no stack trace,
/// and nothing written to the output folder.
/// </summary>
public sealed class ArgumentErrorTests : IDisposable
{
    private readonly TestFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData("--batch-size abc", "--batch-size takes a whole number, not 'abc'")]
    [InlineData("--batch-size 99999999999", "--batch-size must be at most 2147483647; it is 99999999999")]
    [InlineData("--batch-size 0", "--batch-size must be at least 1")]
    [InlineData("--limit x", "--limit takes a whole number, not 'x'")]
    [InlineData("--concurrency 1.5", "--concurrency takes a whole number, not '1.5'")]
    [InlineData("--gpu-jpeg-threads 0", "--gpu-jpeg-threads must be at least 1")]
    [InlineData("--gpu-jpeg maybe", "maybe")]
    [InlineData("--image-size big", "--image-size takes a whole number, not 'big'")]
    [InlineData("--commit-every -3", "--commit-every must be at least 1")]
    [InlineData("--pixel-scale wide", "--pixel-scale takes a number")]
    [InlineData("--bad-rows sometimes", "sometimes")]
    [InlineData("--shard 3/3", "outside 0..2 for 3 shards")]
    [InlineData("--shard half", "--shard takes i/N")]
    [InlineData("--shards 3", "JOB_COMPLETION_INDEX")]
    [InlineData("--format xlsx -o out/", "--format takes parquet or csv")]
    [InlineData("-o out/scores.txt", "has the extension '.txt'")]
    [InlineData("-o out/scores.csv --format parquet", "does not match")]
    [InlineData("-o out/scores.csv --shard 0/2", "needs a folder")]
    [InlineData("--resume --overwrite", "pass one of them")]
    [InlineData("--no-such-flag", "--no-such-flag")]
    public void IsOneLineWithExitCode2(string arguments, string expected)
    {
        var csv = Inputs.MlpCsv(_folder["in.csv"], 5);
        var result = Job.Run(_folder.Path, ["-i", csv, "-m", Models.Mlp, .. Defaults(arguments), .. arguments.Split(' ')]);

        Assert.True(result.ExitCode == 2, result.ToString());
        var line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line);
        Assert.Contains(expected, line);
        Assert.DoesNotContain("   at ", result.Output + result.Error);
        Assert.Equal(["in.csv"], _folder.Listing());
    }

    // The default output lands in output/; name one inside the test folder unless the case names its own.
    private static string[] Defaults(string arguments) => arguments.Contains("-o ") ? [] : ["-o", "out/scores.parquet"];

    [Fact]
    public void AnOutputUnderAFileNamesTheFile()
    {
        var csv = Inputs.MlpCsv(_folder["in.csv"], 5);
        File.WriteAllText(_folder["afile"], "not a folder");

        var result = Job.Run(_folder.Path, "-i", csv, "-m", Models.Mlp, "-o", "afile/x.csv");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"error: --output 'afile/x.csv' cannot be written: '{_folder["afile"]}' is a file, not a folder.", Assert.Single(result.Errors));
        Assert.Equal(["afile", "in.csv"], _folder.Listing());
    }

    [Fact]
    public void OutputProblemsAreFoundBeforeTheModelIsRead()
    {
        // A model file that is not ONNX would fail when read; the output's problem must be named first.
        var csv = Inputs.MlpCsv(_folder["in.csv"], 5);
        File.WriteAllText(_folder["model.onnx"], "not a model");
        File.WriteAllText(_folder["afile"], "");

        var result = Job.Run(_folder.Path, "-i", csv, "-m", _folder["model.onnx"], "-o", "afile/x.csv");

        Assert.Equal(2, result.ExitCode);
        Expect.Contains("is a file, not a folder", Assert.Single(result.Errors));
    }

    [Fact]
    public void ExitCodesAreListedInTheHelp()
    {
        var result = Job.Run(_folder.Path, "--help");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("2 usage", result.Output);
        Assert.Contains("--resume", result.Output);
        Assert.Contains("--bad-rows", result.Output);
    }
}
