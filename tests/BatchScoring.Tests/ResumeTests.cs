using System.Text.Json;
using BatchScoring.Tests.Support;

namespace BatchScoring.Tests;

/// <summary>
/// A job killed in the middle, even by SIGKILL, and rerun with --resume equals an uninterrupted run,
/// row for row; a plain rerun neither loses nor silently redoes the committed parts.
/// </summary>
public sealed class ResumeTests : IDisposable
{
    private readonly TestFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    public static long CommittedParts(string manifest)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(manifest));
            return document.RootElement.GetProperty("Committed").GetProperty("Parts").GetInt64();
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            return 0;
        }
    }

    [Theory]
    [InlineData("csv", ".parquet")]
    [InlineData("parquet", ".csv")]
    public void SigkillThenResumeEqualsAnUninterruptedRun(string inputFormat, string extension)
    {
        var input = inputFormat == "csv" ? Reference.Csv : Reference.Parquet;
        var expected = Reference.Output(input, extension);
        var output = $"out/scores{extension}";
        string[] command = ["-i", input, "-m", Models.DeepMlp, "-o", output, "--commit-every", Reference.CommitEvery];

        using (var job = Job.Start(_folder.Path, command))
        {
            Job.WaitUntil(job, () => CommittedParts(_folder[output + ".manifest.json"]) >= 5, "5 parts were committed");
            Job.Signal(job, "KILL");
            job.WaitForExit();
            Assert.Equal(137, job.ExitCode);
        }
        // What SIGKILL leaves: the temporary output, the manifest, and the lock file (no longer locked).
        var left = _folder.Listing("out");
        Assert.Contains($"scores{extension}.manifest.json", left);
        Assert.Contains($"scores{extension}.lock", left);
        Assert.Single(left, f => f.StartsWith($".scores{extension}.", StringComparison.Ordinal) && f.EndsWith(".tmp", StringComparison.Ordinal));
        Assert.DoesNotContain($"scores{extension}", left);

        var plain = Job.Run(_folder.Path, command);
        Assert.Equal(2, plain.ExitCode);
        Expect.Contains("add --resume to continue it, or --overwrite to start over", Assert.Single(plain.Errors));
        // The killed job's lock is free (the kernel let go of it): the next job takes it over, and says so.
        Expect.Contains("Took over the lock", Assert.Single(plain.Warnings));

        var resumed = Job.Run(_folder.Path, [.. command, "--resume"]);
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Contains("Resuming after", resumed.Output);
        Assert.Equal(Reference.Rows.ToString(), resumed.Summary["rows"]);

        var actual = Reference.Read(_folder[output]);
        Assert.Equal(Reference.Rows, actual.Select(r => r[0]).Distinct().Count());
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
            Assert.True(expected[i].SequenceEqual(actual[i]), $"row {i} differs: {string.Join(",", expected[i])} vs {string.Join(",", actual[i])}");
        Assert.Equal([$"scores{extension}"], _folder.Listing("out"));
    }

    [Fact]
    public void ResumeOfADifferentCommandIsRefused()
    {
        var csv = Inputs.MlpCsv(_folder["in.csv"], 3000);
        using (var job = Job.Start(_folder.Path, ["-i", csv, "-m", Models.DeepMlp, "-o", "out/s.csv", "--commit-every", "50"]))
        {
            Job.WaitUntil(job, () => CommittedParts(_folder["out/s.csv.manifest.json"]) >= 2, "2 parts were committed");
            Job.Signal(job, "KILL");
            job.WaitForExit();
        }

        var result = Job.Run(_folder.Path, "-i", csv, "-m", Models.DeepMlp, "-o", "out/s.csv", "--commit-every", "60", "--resume");

        Assert.Equal(2, result.ExitCode);
        Expect.Contains("commit-every was '50', now '60'", Assert.Single(result.Errors));
    }

    [Fact]
    public void ResumeOfACompleteOutputDoesNothing()
    {
        var csv = Inputs.MlpCsv(_folder["in.csv"], 10);
        Assert.Equal(0, Job.Run(_folder.Path, "-i", csv, "-m", Models.Mlp, "-o", "out/s.csv").ExitCode);
        var before = File.ReadAllText(_folder["out/s.csv"]);

        var again = Job.Run(_folder.Path, "-i", csv, "-m", Models.Mlp, "-o", "out/s.csv", "--resume");

        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("nothing to score", again.Output);
        Assert.Equal(before, File.ReadAllText(_folder["out/s.csv"]));
    }
}
