namespace BatchScoring;

/// <summary>
/// Which part of the input this process scores: shard <see cref="Index"/> of <see cref="Count"/>,
/// 0-based. Shards split the input into contiguous, disjoint ranges (Parquet row groups, CSV byte
/// ranges, image files) whose union, in shard order, is the whole input in its own order.
/// </summary>
public sealed record ShardSpec(int Index, int Count)
{
    public static readonly ShardSpec Whole = new(0, 1);

    /// <summary>Kubernetes Indexed Jobs set this to the pod's index, 0-based.</summary>
    public const string KubernetesIndexVariable = "JOB_COMPLETION_INDEX";

    /// <summary>Slurm job arrays set this to the task's index; <see cref="SlurmMinVariable"/> to the array's first one.</summary>
    public const string SlurmIndexVariable = "SLURM_ARRAY_TASK_ID";

    public const string SlurmMinVariable = "SLURM_ARRAY_TASK_MIN";

    public bool IsWhole => Count == 1;

    /// <summary>Parses "i/N"; throws <see cref="UsageException"/> naming what is wrong.</summary>
    public static ShardSpec Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length != 2 || !int.TryParse(parts[0], out var index) || !int.TryParse(parts[1], out var count))
            throw new UsageException($"--shard takes i/N (this process's 0-based index i of N shards, e.g. 0/3), not '{text}'.");
        return Create(index, count, "--shard");
    }

    /// <summary>
    /// The index from the scheduler's environment, for --shards N: JOB_COMPLETION_INDEX (Kubernetes
    /// Indexed Job), else SLURM_ARRAY_TASK_ID less SLURM_ARRAY_TASK_MIN (a Slurm array may start at 1).
    /// </summary>
    public static ShardSpec FromEnvironment(int count, Func<string, string?> environment)
    {
        if (environment(KubernetesIndexVariable) is { Length: > 0 } k8s)
            return Create(Number(k8s, KubernetesIndexVariable), count, KubernetesIndexVariable);
        if (environment(SlurmIndexVariable) is { Length: > 0 } slurm)
        {
            var min = environment(SlurmMinVariable) is { Length: > 0 } m ? Number(m, SlurmMinVariable) : 0;
            return Create(Number(slurm, SlurmIndexVariable) - min, count, $"{SlurmIndexVariable} - {SlurmMinVariable}");
        }
        throw new UsageException(
            $"--shards {count} needs this process's index: set {KubernetesIndexVariable} (a Kubernetes Indexed Job does) or {SlurmIndexVariable} (a Slurm array does), or pass --shard i/{count}.");
    }

    private static ShardSpec Create(int index, int count, string source)
    {
        if (count < 1)
            throw new UsageException($"The number of shards must be at least 1; it is {count}.");
        if (index < 0 || index >= count)
            throw new UsageException($"The shard index from {source} is {index}, outside 0..{count - 1} for {count} shards.");
        return new ShardSpec(index, count);
    }

    private static int Number(string text, string name) =>
        int.TryParse(text, out var value) ? value : throw new UsageException($"{name} is '{text}', not a whole number.");

    /// <summary>This shard's half-open range [start, end) of <paramref name="total"/> items, by proportion.</summary>
    public (long Start, long End) RangeOf(long total) => (total * Index / Count, total * (Index + 1) / Count);

    /// <summary>The part file's name in an output folder, e.g. part-00001-of-00003.parquet.</summary>
    public string PartName(string extension) => $"part-{Index:D5}-of-{Count:D5}{extension}";

    public override string ToString() => $"{Index}/{Count}";
}
