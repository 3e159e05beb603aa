using System.Diagnostics;
using BatchScoring.Tests.Support;

namespace BatchScoring.Tests;

/// <summary>The output is never lost or replaced unasked: --overwrite, the lock, and two jobs on one output.</summary>
public sealed class OutputTests : IDisposable
{
    private readonly TestFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void AnExistingOutputIsRefusedUnlessOverwrite()
    {
        var csv = Inputs.MlpCsv(_folder["in.csv"], 20);
        Directory.CreateDirectory(_folder["out"]);
        File.WriteAllText(_folder["out/scores.parquet"], "precious");

        var refused = Job.Run(_folder.Path, "-i", csv, "-m", Models.Mlp, "-o", "out/scores.parquet");
        Assert.Equal(2, refused.ExitCode);
        Expect.Contains("exists: pass --overwrite to replace it", Assert.Single(refused.Errors));
        Assert.Equal("precious", File.ReadAllText(_folder["out/scores.parquet"]));
        Assert.Equal(["scores.parquet"], _folder.Listing("out"));

        var replaced = Job.Run(_folder.Path, "-i", csv, "-m", Models.Mlp, "-o", "out/scores.parquet", "--overwrite");
        Assert.True(replaced.ExitCode == 0, replaced.ToString());
        Assert.Equal(20, OutputFiles.ReadParquet(_folder["out/scores.parquet"]).Count);
        Assert.Equal(["scores.parquet"], _folder.Listing("out"));
    }

    [Fact]
    public void AHeldLockRefusesAtOnceNamingTheHolder()
    {
        var csv = Inputs.MlpCsv(_folder["in.csv"], 20);
        Directory.CreateDirectory(_folder["out"]);
        // Held as the job holds it: FileShare.None, which is flock(LOCK_EX) on Linux.
        using (var held = new FileStream(_folder["out/scores.csv.lock"], FileMode.Create, FileAccess.ReadWrite, FileShare.None))
        {
            held.Write("pid 4242 on somehost, started 2026-01-01 00:00:00Z (test)"u8);
            held.Flush();
            var clock = Stopwatch.StartNew();
            var result = Job.Run(_folder.Path, "-i", csv, "-m", Models.Mlp, "-o", "out/scores.csv");

            Assert.Equal(5, result.ExitCode);
            Expect.Contains("Another job is writing this output", Assert.Single(result.Errors));
            Expect.Contains("pid 4242 on somehost", result.Errors[0]);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"refused only after {clock.Elapsed}");
        }
        Assert.Equal(["scores.csv.lock"], _folder.Listing("out"));
    }

    [Fact]
    public void AStaleLockIsTakenOverWithAWarning()
    {
        var csv = Inputs.MlpCsv(_folder["in.csv"], 20);
        Directory.CreateDirectory(_folder["out"]);
        // What a job killed by SIGKILL leaves: the file with its holder, and no lock on it.
        File.WriteAllText(_folder["out/scores.csv.lock"], "pid 4242 on somehost, started 2026-01-01 00:00:00Z (killed)");

        var result = Job.Run(_folder.Path, "-i", csv, "-m", Models.Mlp, "-o", "out/scores.csv");

        Assert.True(result.ExitCode == 0, result.ToString());
        Expect.Contains("Took over the lock", Assert.Single(result.Warnings));
        Expect.Contains("pid 4242 on somehost", result.Warnings[0]);
        Assert.Equal(["scores.csv"], _folder.Listing("out"));
    }

    [Fact]
    public void TwoJobsOnOneOutputLeaveTheFirstOnesOutputComplete()
    {
        // The first job takes seconds (the deep model, 6,000 rows): the second starts while it runs.
        var csv = Reference.Csv;
        using var first = Job.Start(_folder.Path, ["-i", csv, "-m", Models.DeepMlp, "-o", "out/scores.parquet", "--commit-every", "100"]);
        Job.WaitUntil(first, () => File.Exists(_folder["out/scores.parquet.manifest.json"]), "the first job started writing");

        var second = Job.Run(_folder.Path, "-i", csv, "-m", Models.DeepMlp, "-o", "out/scores.parquet", "--overwrite");
        var firstResult = Job.Wait(first, TimeSpan.FromSeconds(120));

        Assert.Equal(5, second.ExitCode);
        Expect.Contains($"pid {first.Id} on {Environment.MachineName}", Assert.Single(second.Errors));
        Assert.True(firstResult.ExitCode == 0, firstResult.ToString());
        var rows = OutputFiles.ReadParquet(_folder["out/scores.parquet"]);
        Assert.Equal(Enumerable.Range(0, Reference.Rows).Select(i => $"r{i}"), rows.Select(r => r[0]));
        Assert.Equal(["scores.parquet"], _folder.Listing("out"));
    }

    [Fact]
    public void AHugeBatchIsCappedToTheRows()
    {
        var csv = Inputs.MlpCsv(_folder["in.csv"], 10);

        var result = Job.Run(_folder.Path, "-i", csv, "-m", Models.Mlp, "-o", "out/scores.csv", "--batch-size", "2147483647");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("--batch-size 2147483647 is capped to 10", result.Output);
        Assert.Equal(10, OutputFiles.ReadCsv(_folder["out/scores.csv"]).Count);
    }
}
