using System.Text.Json;
using System.Text.Json.Serialization;

namespace BatchScoring.Output;

/// <summary>
/// What the committed parts hold, written after each commit: rows, where in the input the next row
/// starts, the bytes of the temporary output and rejects files that are committed (anything past them
/// is an unfinished part, cut off on resume), and for Parquet the footer that closed the file at that
/// point (the next part's row groups overwrite it; writing it back makes the committed file whole).
/// </summary>
public sealed record CommittedParts
{
    public long Parts { get; init; }

    public long Rows { get; init; }

    public long Rejected { get; init; }

    public long MissingCells { get; init; }

    /// <summary>The last committed row's position (CSV line, Parquet row, image index); null before any row.</summary>
    public long? LastRow { get; init; }

    /// <summary>The last committed row's resume position (CSV: the byte after its line).</summary>
    public long? ResumeAt { get; init; }

    public long OutputBytes { get; init; }

    /// <summary>Base64 of the Parquet footer at <see cref="OutputBytes"/> (metadata, its length, "PAR1").</summary>
    public string? ParquetFooter { get; init; }

    public long RejectsBytes { get; init; }

    /// <summary>The last commit: every row is in; all that is left is to put the output in place.</summary>
    public bool Final { get; init; }
}

/// <summary>
/// The manifest a run keeps beside its output while it runs (removed when the output is complete): the
/// command's <see cref="Fingerprint"/>, the temporary files, and the committed parts. After a kill, even
/// SIGKILL, it is what --resume continues from. Written to a temporary file and renamed, so it is
/// always either the old or the new one.
/// </summary>
public sealed record ResumeManifest
{
    public int Version { get; init; } = 1;

    /// <summary>What decides the output rows: a resumed run must match it field for field.</summary>
    public required SortedDictionary<string, string> Fingerprint { get; init; }

    public required string TempFile { get; init; }

    public required string RejectsTempFile { get; init; }

    public CommittedParts Committed { get; init; } = new();

    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public static ResumeManifest? Load(string path)
    {
        if (!File.Exists(path))
            return null;
        try
        {
            return JsonSerializer.Deserialize<ResumeManifest>(File.ReadAllText(path), s_json);
        }
        catch (JsonException e)
        {
            throw new UsageException($"The manifest '{path}' of an earlier run cannot be read ({e.Message}); remove it, or pass --overwrite to start over.");
        }
    }

    public void Save(string path)
    {
        // One name: only the lock's holder writes it. A kill mid-write leaves it for the next run to replace.
        var temp = TempOf(path);
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(stream, this, s_json);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }

    public static string TempOf(string path) => path + ".tmp";

    /// <summary>The fields of <paramref name="other"/> that differ from this one's, as "name: was, now".</summary>
    public List<string> Differences(SortedDictionary<string, string> other) =>
        Fingerprint.Keys.Union(other.Keys)
            .Where(k => Fingerprint.GetValueOrDefault(k) != other.GetValueOrDefault(k))
            .Select(k => $"{k} was '{Fingerprint.GetValueOrDefault(k) ?? "(none)"}', now '{other.GetValueOrDefault(k) ?? "(none)"}'")
            .ToList();
}
