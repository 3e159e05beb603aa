using BatchScoring.Output;

namespace BatchScoring.Running;

/// <summary>
/// The output side of one run, settled before anything is loaded: the target, its lock, and whether
/// the run starts fresh, resumes a stopped run's committed parts, or has nothing to do. It ends by
/// renaming the output into place (<see cref="Complete"/>) or by keeping what is committed and
/// removing the rest (<see cref="Abandon"/>).
/// </summary>
public sealed class OutputSession : IDisposable
{
    private OutputSession(OutputTarget target, OutputLock outputLock, ResumeManifest? manifest, List<string> notes)
    {
        Target = target;
        Lock = outputLock;
        Manifest = manifest;
        Notes = notes;
    }

    public OutputTarget Target { get; }

    public OutputLock Lock { get; }

    /// <summary>The manifest to write under (saved already); null when the output is complete and there is nothing to do.</summary>
    public ResumeManifest? Manifest { get; }

    public bool IsResuming => Manifest is { Committed.Parts: > 0 };

    /// <summary>Things said on the way (a finished run's manifest cleared); the caller prints them.</summary>
    public List<string> Notes { get; }

    /// <summary>Resolves and locks the output and decides how the run starts. Throws <see cref="UsageException"/> or <see cref="OutputLockedException"/>.</summary>
    public static OutputSession Open(JobOptions options, SortedDictionary<string, string> fingerprint)
    {
        var target = OutputTarget.Resolve(options.Output, options.Format, options.Shard, options.Input);
        DatasetManifest.CheckCompatible(target);
        var outputLock = OutputLock.Acquire(target.LockPath);
        try
        {
            // Said at once: a refusal below must not swallow it.
            if (outputLock.TookOverFrom is { } previous)
                ConsoleReports.Warning($"Took over the lock '{target.LockPath}' from a job that is gone: {previous}.");
            var notes = new List<string>();
            return new OutputSession(target, outputLock, Decide(options, fingerprint, target, notes), notes);
        }
        catch
        {
            outputLock.Dispose();
            throw;
        }
    }

    private static ResumeManifest? Decide(JobOptions options, SortedDictionary<string, string> fingerprint, OutputTarget target, List<string> notes)
    {
        var existing = ResumeManifest.Load(target.ManifestPath);
        if (existing is not null)
        {
            if (options.Overwrite)
            {
                OutputCompletion.Discard(target, existing);
                existing = null;
            }
            else if (OutputCompletion.TryFinishRenamed(target, existing))
            {
                Finish(target, existing);
                notes.Add($"A run of '{target.FinalPath}' had put its output in place but was stopped before the end; it is finished now.");
                existing = null;
            }
            else if (existing.Committed.Final && File.Exists(Path.Combine(target.Folder, existing.TempFile)))
            {
                // Every row was committed; the run was stopped before the rename. Nothing to score again.
                OutputCompletion.PutInPlace(target, existing);
                Finish(target, existing);
                notes.Add($"A stopped run of '{target.FinalPath}' had committed every row; its output is put in place now.");
                return null;
            }
            else if (existing.Committed.Parts == 0 || existing.Committed.Rows + existing.Committed.Rejected == 0)
            {
                // A stopped run that committed nothing leaves nothing worth a question.
                OutputCompletion.Discard(target, existing);
                existing = null;
            }
            else if (!options.Resume)
            {
                throw new UsageException(
                    $"A stopped run of '{target.FinalPath}' committed {existing.Committed.Rows:N0} rows (manifest '{target.ManifestPath}'): " +
                    "add --resume to continue it, or --overwrite to start over.");
            }
            else
            {
                if (existing.Differences(fingerprint) is { Count: > 0 } differences)
                    throw new UsageException(
                        $"--resume: the stopped run of '{target.FinalPath}' was started differently ({string.Join("; ", differences)}). " +
                        "Rerun it as it was, or pass --overwrite to start over.");
                if (!File.Exists(Path.Combine(target.Folder, existing.TempFile)))
                    throw new UsageException(
                        $"--resume: the stopped run's committed rows were in '{existing.TempFile}', which is gone. Pass --overwrite to start over.");
                return existing;
            }
        }

        if (File.Exists(target.FinalPath) && !options.Overwrite)
        {
            if (options.Resume)
                return null;
            throw new UsageException($"The output '{target.FinalPath}' exists: pass --overwrite to replace it (or --resume, which takes a complete output as done).");
        }

        var runId = Guid.NewGuid().ToString("N")[..12];
        var manifest = new ResumeManifest
        {
            Fingerprint = fingerprint,
            TempFile = Path.GetFileName(target.TempPath(runId)),
            RejectsTempFile = Path.GetFileName(target.RejectsTempPath(runId)),
        };
        manifest.Save(target.ManifestPath);
        return manifest;
    }

    /// <summary>Puts the complete output in place and, in a dataset folder, adds its part to the folder's manifest.</summary>
    public DatasetManifest? Complete(ResumeManifest final)
    {
        OutputCompletion.PutInPlace(Target, final);
        return Finish(Target, final);
    }

    // The part goes into the folder's manifest before this run's manifest is removed: a kill between
    // the two leaves the run's manifest, and the next --resume records the part from it.
    private static DatasetManifest? Finish(OutputTarget target, ResumeManifest final)
    {
        var dataset = target.DatasetFolder is null ? null : DatasetManifest.Record(target, final.Committed);
        OutputCompletion.RemoveManifest(target);
        return dataset;
    }

    /// <summary>
    /// After a stop or a failure: keeps the committed parts and the manifest when there are any (and
    /// says how to resume), else removes every file of the run. Returns the one line to print.
    /// </summary>
    public string Abandon(ResumeManifest? current)
    {
        if (current is null)
            return "No output was started.";
        if (current.Committed.Parts == 0 || current.Committed.Rows + current.Committed.Rejected == 0)
        {
            OutputCompletion.Discard(Target, current);
            return "Nothing was committed; the run's files are removed.";
        }
        return $"Kept {current.Committed.Rows:N0} committed rows in '{Path.Combine(Target.Folder, current.TempFile)}' (manifest '{Target.ManifestPath}'); " +
            "rerun the same command with --resume to continue.";
    }

    public void Dispose() => Lock.Dispose();
}
