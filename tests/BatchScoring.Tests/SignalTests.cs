using BatchScoring.Tests.Support;

namespace BatchScoring.Tests;

/// <summary>
/// SIGTERM (what schedulers and `docker stop` send), SIGHUP and SIGINT stop the job alike: one line
/// saying what was kept and how to resume, exit 128 + the signal, the committed parts and manifest kept,
/// nothing uncommitted left, no lock left; a double Ctrl+C stops at once and still says so.
/// </summary>
public sealed class SignalTests : IDisposable
{
    private readonly TestFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string[] Command(string output) => ["-i", Reference.Csv, "-m", Models.DeepMlp, "-o", output, "--commit-every", Reference.CommitEvery];

    [Theory]
    [InlineData("TERM", 143, "SIGTERM")]
    [InlineData("HUP", 129, "SIGHUP")]
    [InlineData("INT", 130, "SIGINT")]
    public void ASignalKeepsTheCommittedPartsForResume(string signal, int exitCode, string name)
    {
        var expected = signal == "TERM" ? Reference.Output(Reference.Csv, ".parquet") : [];
        JobResult stopped;
        using (var job = Job.Start(_folder.Path, Command("out/s.parquet")))
        {
            Job.WaitUntil(job, () => ResumeTests.CommittedParts(_folder["out/s.parquet.manifest.json"]) >= 3, "3 parts were committed");
            Job.Signal(job, signal);
            stopped = Job.Wait(job, TimeSpan.FromSeconds(60));
        }

        Assert.True(stopped.ExitCode == exitCode, stopped.ToString());
        var line = Assert.Single(stopped.Errors);
        Expect.Contains($"Stopped by {name}. Kept ", line);
        Expect.Contains("rerun the same command with --resume to continue", line);
        var left = _folder.Listing("out");
        Assert.Equal(2, left.Count);
        Assert.Contains("s.parquet.manifest.json", left);
        Assert.Matches(@"^\.s\.parquet\.[0-9a-f]{12}\.tmp$", left.Single(f => f != "s.parquet.manifest.json"));

        // Resuming is the same whatever stopped the run (ResumeTests checks it row for row); once is enough here.
        if (signal != "TERM")
            return;
        var resumed = Job.Run(_folder.Path, [.. Command("out/s.parquet"), "--resume"]);
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal(expected.Select(r => string.Join(",", r)), Reference.Read(_folder["out/s.parquet"]).Select(r => string.Join(",", r)));
        Assert.Equal(["s.parquet"], _folder.Listing("out"));
    }

    [Fact]
    public void ASignalBeforeAnyCommitLeavesNothing()
    {
        // The default part is 65,536 rows: nothing is committed before the stop.
        using var job = Job.Start(_folder.Path, ["-i", Reference.Csv, "-m", Models.DeepMlp, "-o", "out/s.csv"]);
        Job.WaitUntil(job, () => File.Exists(_folder["out/s.csv.manifest.json"]), "the job started");
        Job.Signal(job, "TERM");
        var stopped = Job.Wait(job, TimeSpan.FromSeconds(60));

        Assert.True(stopped.ExitCode == 143, stopped.ToString());
        Assert.Equal("error: Stopped by SIGTERM. Nothing was committed; the run's files are removed.", Assert.Single(stopped.Errors));
        Assert.Empty(_folder.Listing("out"));
    }

    [Fact]
    public void ADoubleCtrlCStopsAtOnceAndSaysWhatWasKept()
    {
        using var job = Job.Start(_folder.Path, Command("out/s.parquet"));
        Job.WaitUntil(job, () => ResumeTests.CommittedParts(_folder["out/s.parquet.manifest.json"]) >= 2, "2 parts were committed");
        Job.Signal(job, "INT");
        Job.Signal(job, "INT");
        var stopped = Job.Wait(job, TimeSpan.FromSeconds(60));

        Assert.True(stopped.ExitCode == 130, stopped.ToString());
        // The second signal may find the job already stopping on the first; either way one line says what is kept.
        var line = Assert.Single(stopped.Errors);
        Assert.Matches("^error: Stopped (at once|by SIGINT)\\. Kept [0-9,]+ committed rows", line);
        Assert.DoesNotContain("s.parquet.lock", _folder.Listing("out"));

        var resumed = Job.Run(_folder.Path, [.. Command("out/s.parquet"), "--resume"]);
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal(Reference.Output(Reference.Csv, ".parquet").Select(r => string.Join(",", r)), OutputFiles.ReadParquet(_folder["out/s.parquet"]).Select(r => string.Join(",", r)));
    }
}
