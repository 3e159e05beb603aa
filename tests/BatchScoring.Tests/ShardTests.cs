using System.Text.Json;
using BatchScoring.Tests.Support;

namespace BatchScoring.Tests;

/// <summary>
/// Shards run at once, each on a disjoint part of the input, each writing its part file into one
/// folder; the parts, in shard order, equal the unsharded output with no row twice, and the folder's
/// manifest lists them all. The shard comes from --shard i/N or, with --shards N, from the scheduler's
/// environment (Kubernetes, Slurm).
/// </summary>
public sealed class ShardTests : IDisposable
{
    private readonly TestFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static List<JobResult> RunAtOnce(string folder, IEnumerable<(string[] Arguments, Dictionary<string, string>? Environment)> jobs)
    {
        var processes = jobs.Select(j => Job.Start(folder, j.Arguments, j.Environment)).ToList();
        try
        {
            return processes.Select(p => Job.Wait(p, TimeSpan.FromSeconds(120))).ToList();
        }
        finally
        {
            processes.ForEach(p => p.Dispose());
        }
    }

    private void AssertUnionEqualsUnsharded(string unsharded, string extension, int shards, int rows)
    {
        var expected = Reference.Read(unsharded);
        Assert.Equal(rows, expected.Count);
        var parts = Enumerable.Range(0, shards).Select(i => _folder[$"out/part-{i:D5}-of-{shards:D5}{extension}"]).ToList();
        var union = parts.SelectMany(Reference.Read).ToList();
        Assert.Equal(rows, union.Select(r => r[0]).Distinct().Count());
        Assert.Equal(expected.Select(r => string.Join(",", r)), union.Select(r => string.Join(",", r)));

        using var manifest = JsonDocument.Parse(File.ReadAllText(_folder["out/_manifest.json"]));
        Assert.Equal(shards, manifest.RootElement.GetProperty("Shards").GetInt32());
        var listed = manifest.RootElement.GetProperty("Parts").EnumerateArray().ToList();
        Assert.Equal(parts.Select(Path.GetFileName), listed.Select(p => p.GetProperty("File").GetString()));
        Assert.Equal(rows, listed.Sum(p => p.GetProperty("Rows").GetInt64()));
        Assert.Equal(parts.Select(Path.GetFileName).Append("_manifest.json").Order(StringComparer.Ordinal), _folder.Listing("out"));
    }

    [Fact]
    public void ThreeParquetShardsAtOnceEqualTheUnshardedOutput()
    {
        var input = Inputs.MlpParquet(_folder["in.parquet"], 2000, 150);
        var unsharded = Job.Run(_folder.Path, "-i", input, "-m", Models.Mlp, "-o", "whole.parquet");
        Assert.True(unsharded.ExitCode == 0, unsharded.ToString());

        var results = RunAtOnce(_folder.Path, Enumerable.Range(0, 3).Select(i =>
            (new[] { "-i", input, "-m", Models.Mlp, "-o", "out/", "--shard", $"{i}/3", "--commit-every", "100" }, (Dictionary<string, string>?)null)));

        Assert.All(results, r => Assert.True(r.ExitCode == 0, r.ToString()));
        AssertUnionEqualsUnsharded(_folder["whole.parquet"], ".parquet", 3, 2000);
        // Each shard says how many parts the folder had when it added its own; the last one found them all.
        Assert.Equal(["1/3", "2/3", "3/3"], results.Select(r => r.Summary["dataset_parts"]).Order());
        Assert.Single(results, r => r.Summary["dataset_complete"] == "true");
    }

    [Fact]
    public void CsvShardsFromKubernetesIndexesEqualTheUnshardedOutput()
    {
        var input = Inputs.MlpCsv(_folder["in.csv"], 1500);
        var unsharded = Job.Run(_folder.Path, "-i", input, "-m", Models.Mlp, "-o", "whole.csv");
        Assert.True(unsharded.ExitCode == 0, unsharded.ToString());

        var results = RunAtOnce(_folder.Path, Enumerable.Range(0, 3).Select(i =>
            (new[] { "-i", input, "-m", Models.Mlp, "-o", "out", "--format", "csv", "--shards", "3" },
             (Dictionary<string, string>?)new Dictionary<string, string> { ["JOB_COMPLETION_INDEX"] = i.ToString() })));

        Assert.All(results, r => Assert.True(r.ExitCode == 0, r.ToString()));
        AssertUnionEqualsUnsharded(_folder["whole.csv"], ".csv", 3, 1500);
        Assert.All(Enumerable.Range(0, 3), i => Assert.Equal(OutputFiles.CsvHeader(_folder["whole.csv"]), OutputFiles.CsvHeader(_folder[$"out/part-{i:D5}-of-00003.csv"])));
    }

    [Fact]
    public void ImageShardsFromASlurmArrayCoverTheFolderOnce()
    {
        var images = Inputs.Images(_folder["images"], 10);
        var unsharded = Job.Run(_folder.Path, "-i", images, "-m", Models.Image, "-o", "whole.parquet");
        Assert.True(unsharded.ExitCode == 0, unsharded.ToString());

        // A Slurm array --array=1-3: the indexes start at SLURM_ARRAY_TASK_MIN.
        var results = RunAtOnce(_folder.Path, Enumerable.Range(1, 3).Select(i =>
            (new[] { "-i", images, "-m", Models.Image, "-o", "out", "--shards", "3" },
             (Dictionary<string, string>?)new Dictionary<string, string> { ["SLURM_ARRAY_TASK_ID"] = i.ToString(), ["SLURM_ARRAY_TASK_MIN"] = "1" })));

        Assert.All(results, r => Assert.True(r.ExitCode == 0, r.ToString()));
        AssertUnionEqualsUnsharded(_folder["whole.parquet"], ".parquet", 3, 10);
    }

    [Fact]
    public void AFolderOfAnotherShardCountIsRefused()
    {
        var input = Inputs.MlpCsv(_folder["in.csv"], 30);
        Assert.Equal(0, Job.Run(_folder.Path, "-i", input, "-m", Models.Mlp, "-o", "out/", "--shard", "0/2").ExitCode);

        var result = Job.Run(_folder.Path, "-i", input, "-m", Models.Mlp, "-o", "out/", "--shard", "0/3");

        Assert.Equal(2, result.ExitCode);
        Expect.Contains("holds a parquet dataset of 2 shard(s); this run writes parquet in 3", Assert.Single(result.Errors));
    }
}
