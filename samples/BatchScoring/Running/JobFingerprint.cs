using System.Globalization;

namespace BatchScoring.Running;

/// <summary>
/// What decides a run's output rows, recorded in its manifest: a --resume must match it, or the parts
/// it appends to would come from another input, model or setting. Engine settings (backend, device,
/// batch size, lanes) and --bad-rows may change between a run and its resume.
/// </summary>
public static class JobFingerprint
{
    public static SortedDictionary<string, string> Of(JobOptions options)
    {
        var f = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["input"] = Path.GetFullPath(options.Input),
            ["model"] = Path.GetFullPath(options.Model),
            ["outputs"] = options.Outputs is { Length: > 0 } o ? string.Join(",", o) : "(all)",
            ["id-column"] = options.IdColumn ?? "(default)",
            ["separator"] = options.Separator?.ToString() ?? "(default)",
            ["image-size"] = options.ImageSize?.ToString(CultureInfo.InvariantCulture) ?? "(default)",
            ["pixel-offset"] = options.PixelOffset.ToString(CultureInfo.InvariantCulture),
            ["pixel-scale"] = options.PixelScale.ToString(CultureInfo.InvariantCulture),
            ["bgr"] = options.Bgr ? "true" : "false",
            ["resize"] = options.Resize?.ToString(CultureInfo.InvariantCulture) ?? "(none)",
            ["crop"] = options.Crop?.ToString(CultureInfo.InvariantCulture) ?? "(none)",
            ["mean"] = Numbers(options.Mean),
            ["std"] = Numbers(options.Std),
            ["preset"] = options.Preset?.ToString() ?? "(none)",
            // Reduced precision changes the scores; the decoder and TF32 change them by less than the decoders' own differences.
            ["precision"] = options.Precision.ToString(),
            ["limit"] = options.Limit?.ToString(CultureInfo.InvariantCulture) ?? "(none)",
            ["shard"] = options.Shard.ToString(),
            ["commit-every"] = options.CommitEvery.ToString(CultureInfo.InvariantCulture),
        };
        AddFile(f, "input", options.Input);
        AddFile(f, "model", options.Model);
        return f;
    }

    private static string Numbers(float[]? values) =>
        values is null ? "(none)" : string.Join(",", values.Select(v => v.ToString(CultureInfo.InvariantCulture)));

    // A file's size and time of last change: a changed file gives other rows. (A folder of images is taken by its path.)
    private static void AddFile(SortedDictionary<string, string> f, string key, string path)
    {
        if (!File.Exists(path))
            return;
        var info = new FileInfo(path);
        f[$"{key}.bytes"] = info.Length.ToString(CultureInfo.InvariantCulture);
        f[$"{key}.modified"] = info.LastWriteTimeUtc.ToString("O", CultureInfo.InvariantCulture);
    }
}
