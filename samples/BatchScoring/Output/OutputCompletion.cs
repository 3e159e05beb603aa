namespace BatchScoring.Output;

/// <summary>The end of a run's files: renamed into place when the output is complete, or removed when nothing of them is worth keeping.</summary>
public static class OutputCompletion
{
    /// <summary>
    /// Renames the temporary output onto the output (atomic within a folder: a reader sees the old file
    /// or the new one, never half of one) and does the same for the rejects. The manifest stays until
    /// <see cref="RemoveManifest"/>, so a kill in between leaves one that --resume can finish from.
    /// </summary>
    public static void PutInPlace(OutputTarget target, ResumeManifest manifest)
    {
        var rejectsTemp = Path.Combine(target.Folder, manifest.RejectsTempFile);
        if (manifest.Committed.Rejected > 0)
            File.Move(rejectsTemp, target.RejectsPath, overwrite: true);
        else
        {
            File.Delete(rejectsTemp);
            // A rejects file beside the output belongs to it; an older run's would now mislead.
            File.Delete(target.RejectsPath);
        }
        File.Move(Path.Combine(target.Folder, manifest.TempFile), target.FinalPath, overwrite: true);
    }

    public static void RemoveManifest(OutputTarget target)
    {
        File.Delete(target.ManifestPath);
        File.Delete(ResumeManifest.TempOf(target.ManifestPath));
    }

    /// <summary>
    /// Whether a run was killed after its output was renamed but before its manifest was removed; if
    /// so, puts its rejects in place too. The caller finishes it (the dataset's manifest, then this one's).
    /// </summary>
    public static bool TryFinishRenamed(OutputTarget target, ResumeManifest manifest)
    {
        if (File.Exists(Path.Combine(target.Folder, manifest.TempFile)) || !File.Exists(target.FinalPath))
            return false;
        var rejectsTemp = Path.Combine(target.Folder, manifest.RejectsTempFile);
        if (File.Exists(rejectsTemp))
            File.Move(rejectsTemp, target.RejectsPath, overwrite: true);
        return true;
    }

    /// <summary>Removes a run's temporary files and manifest: nothing committed, or starting over.</summary>
    public static void Discard(OutputTarget target, ResumeManifest manifest)
    {
        File.Delete(Path.Combine(target.Folder, manifest.TempFile));
        File.Delete(Path.Combine(target.Folder, manifest.RejectsTempFile));
        RemoveManifest(target);
    }
}
