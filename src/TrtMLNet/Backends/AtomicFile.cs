namespace TrtMLNet.Backends;

/// <summary>
/// Replaces a file so that readers see the old content or the new, never a part of it: the content goes
/// to a temporary file beside the target (same folder, so the same file system) and is renamed over
/// it. Processes writing the same target at once each rename a complete file, and the last one wins.
/// </summary>
internal static class AtomicFile
{
    /// <summary>Temporary files older than this are leftovers of a writer that died; a live write takes seconds.</summary>
    private static readonly TimeSpan StaleTemporaryAge = TimeSpan.FromHours(1);

    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/>; on failure the target is untouched and no temporary file is left.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(folder);
        RemoveStaleTemporaries(path);
        // Unique per writer: two processes (or threads) never write the same temporary file.
        var temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                // On disk before the rename: a crash right after must not leave a renamed, empty file.
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    public static bool TryDelete(string path)
    {
        try
        {
            File.Delete(path);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Best effort: temporaries of writers that crashed between creating and renaming them.</summary>
    private static void RemoveStaleTemporaries(string path)
    {
        try
        {
            var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
            var cutoff = DateTime.UtcNow - StaleTemporaryAge;
            foreach (var file in Directory.EnumerateFiles(folder, Path.GetFileName(path) + ".*.tmp"))
                if (File.GetLastWriteTimeUtc(file) < cutoff)
                    TryDelete(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Cleaning up is a courtesy; the write itself will report a folder it cannot use.
        }
    }
}
