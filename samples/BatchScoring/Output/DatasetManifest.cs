using System.Text.Json;

namespace BatchScoring.Output;

/// <summary>One shard's part file in a dataset folder.</summary>
public sealed record DatasetPart(int Shard, string File, long Rows, long Rejected, long MissingCells, string? RejectsFile);

/// <summary>
/// _manifest.json in an output folder: the format, the number of shards, and each finished shard's part
/// file with its rows, in shard order. Read in that order, the parts are the input's rows in the input's
/// order; <see cref="Complete"/> says every shard is there. Dataset readers (Spark, pyarrow, DuckDB's
/// globs) skip files starting with '_' or '.', so the folder of parts reads as one table. Shards finish
/// in any order and at once; each adds its part under a lock.
/// </summary>
public sealed record DatasetManifest(string Format, int Shards, List<DatasetPart> Parts)
{
    public const string FileName = "_manifest.json";

    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    public bool Complete => Enumerable.Range(0, Shards).All(i => Parts.Any(p => p.Shard == i));

    public static DatasetManifest? Load(string folder)
    {
        var path = Path.Combine(folder, FileName);
        if (!System.IO.File.Exists(path))
            return null;
        try
        {
            return JsonSerializer.Deserialize<DatasetManifest>(System.IO.File.ReadAllText(path), s_json);
        }
        catch (JsonException e)
        {
            throw new UsageException($"'{path}' cannot be read ({e.Message}); remove it to start the dataset over.");
        }
    }

    /// <summary>Refuses a folder whose manifest was made for another format or number of shards: the parts would not read as one dataset.</summary>
    public static void CheckCompatible(OutputTarget target)
    {
        if (target.DatasetFolder is null || Load(target.DatasetFolder) is not { } existing)
            return;
        var format = target.Format.ToString().ToLowerInvariant();
        if (existing.Format != format || existing.Shards != target.Shard.Count)
            throw new UsageException(
                $"The folder '{target.DatasetFolder}' holds a {existing.Format} dataset of {existing.Shards} shard(s); this run writes {format} in {target.Shard.Count}. Use another folder, or empty this one.");
    }

    /// <summary>Adds (or replaces) this shard's part, under the folder's manifest lock; returns the manifest as saved.</summary>
    public static DatasetManifest Record(OutputTarget target, CommittedParts committed)
    {
        var folder = target.DatasetFolder!;
        using var _ = OutputLock.Acquire(Path.Combine(folder, FileName + ".lock"), TimeSpan.FromSeconds(30));
        var manifest = Load(folder) ?? new DatasetManifest(target.Format.ToString().ToLowerInvariant(), target.Shard.Count, []);
        manifest.Parts.RemoveAll(p => p.Shard == target.Shard.Index);
        manifest.Parts.Add(new DatasetPart(target.Shard.Index, target.Name, committed.Rows, committed.Rejected, committed.MissingCells,
            committed.Rejected > 0 ? Path.GetFileName(target.RejectsPath) : null));
        manifest.Parts.Sort((a, b) => a.Shard.CompareTo(b.Shard));
        var path = Path.Combine(folder, FileName);
        var temp = $"{path}.{Environment.ProcessId}.tmp";
        System.IO.File.WriteAllText(temp, JsonSerializer.Serialize(manifest, s_json));
        System.IO.File.Move(temp, path, overwrite: true);
        return manifest;
    }
}
