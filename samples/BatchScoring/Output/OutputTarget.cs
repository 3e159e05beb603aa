namespace BatchScoring.Output;

public enum OutputFormat
{
    Parquet,
    Csv,
}

/// <summary>
/// Where this run's output goes, and the files that travel with it, all in the output's folder (so a
/// rename is atomic): the output itself, written as a temporary file with a unique name and renamed
/// when complete; its lock; the manifest of committed parts a --resume continues from; the rejected
/// rows. With -o naming a folder, the output is this shard's part file in it, and the folder's
/// <see cref="DatasetManifest"/> lists the parts.
/// </summary>
public sealed record OutputTarget(string FinalPath, OutputFormat Format, string? DatasetFolder, ShardSpec Shard)
{
    public static readonly string[] Extensions = [".parquet", ".csv"];

    public string Folder => Path.GetDirectoryName(FinalPath)!;

    public string Name => Path.GetFileName(FinalPath);

    public string Extension => Format == OutputFormat.Csv ? ".csv" : ".parquet";

    // In a dataset folder the side files start with '_' or '.', which dataset readers (Spark, pyarrow) skip.
    private string Side(string suffix) => Path.Combine(Folder, DatasetFolder is null ? $"{Name}{suffix}" : $"_{Name}{suffix}");

    public string LockPath => Side(".lock");

    public string ManifestPath => Side(".manifest.json");

    public string RejectsPath => DatasetFolder is null
        ? $"{FinalPath}.rejects.csv"
        : Path.Combine(Folder, $"_{Path.GetFileNameWithoutExtension(Name)}.rejects.csv");

    /// <summary>A temporary name no other run uses: hidden, beside the output, unique per run.</summary>
    public string TempPath(string runId) => Path.Combine(Folder, $".{Name}.{runId}.tmp");

    public string RejectsTempPath(string runId) => Path.Combine(Folder, $".{Name}.rejects.{runId}.tmp");

    /// <summary>
    /// Works out the target from -o, --format and the shard, and checks what can be checked before
    /// anything is loaded: the extension, that the folders can be made (a file in the way is named),
    /// that it is not the input. Throws <see cref="UsageException"/>.
    /// </summary>
    public static OutputTarget Resolve(string output, string? format, ShardSpec shard, string input)
    {
        var asked = ParseFormat(format);
        var full = Path.GetFullPath(output);
        var extension = Path.GetExtension(full).ToLowerInvariant();
        var isFolder = Directory.Exists(full) || output.EndsWith('/') || output.EndsWith(Path.DirectorySeparatorChar) || extension.Length == 0;
        OutputTarget target;
        if (isFolder)
        {
            var f = asked ?? OutputFormat.Parquet;
            target = new OutputTarget(Path.Combine(full.TrimEnd(Path.DirectorySeparatorChar), shard.PartName(f == OutputFormat.Csv ? ".csv" : ".parquet")), f, full.TrimEnd(Path.DirectorySeparatorChar), shard);
        }
        else
        {
            if (!Extensions.Contains(extension))
                throw new UsageException($"--output '{output}' has the extension '{extension}': give a .parquet or .csv file, or a folder (no extension) for part files.");
            var fromName = extension == ".csv" ? OutputFormat.Csv : OutputFormat.Parquet;
            if (asked is { } a && a != fromName)
                throw new UsageException($"--format {format} does not match --output '{output}'; leave --format out or change the extension.");
            if (!shard.IsWhole)
                throw new UsageException($"--output '{output}' names a file, but shard {shard} needs a folder to write its part file into (e.g. -o {Path.ChangeExtension(output, null)}/).");
            target = new OutputTarget(full, fromName, null, shard);
        }
        if (Path.GetFullPath(input).TrimEnd(Path.DirectorySeparatorChar) is var inputPath
            && (inputPath == target.FinalPath || inputPath == target.DatasetFolder))
            throw new UsageException($"--output '{output}' is the input; pick another name.");
        MakeFolder(target.Folder, output);
        return target;
    }

    private static OutputFormat? ParseFormat(string? format) => format?.ToLowerInvariant() switch
    {
        null => null,
        "parquet" => OutputFormat.Parquet,
        "csv" => OutputFormat.Csv,
        _ => throw new UsageException($"--format takes parquet or csv, not '{format}'."),
    };

    /// <summary>Creates the folder, naming the path component that is a file when one is in the way.</summary>
    private static void MakeFolder(string folder, string output)
    {
        for (var current = folder; !string.IsNullOrEmpty(current); current = Path.GetDirectoryName(current))
        {
            if (Directory.Exists(current))
                break;
            if (File.Exists(current))
                throw new UsageException($"--output '{output}' cannot be written: '{current}' is a file, not a folder.");
        }
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"--output '{output}' cannot be written: the folder '{folder}' cannot be made ({e.Message}).");
        }
    }
}
