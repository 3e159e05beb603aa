using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace BatchScoring.Output;

/// <summary>Another job holds the lock; <see cref="Holder"/> is what it wrote into the lock file.</summary>
public sealed class OutputLockedException(string path, string holder)
    : Exception($"Another job is writing this output: '{path}' is held by {holder}. Wait for it to finish, or pick another --output.")
{
    public string Holder { get; } = holder;
}

/// <summary>
/// An exclusive lock on a path, held for the life of the job: the lock file is opened with
/// FileShare.None, which .NET on Linux and macOS backs with flock(LOCK_EX | LOCK_NB), so a second job
/// is refused at once, and the kernel lets go when the holder dies, even by SIGKILL. The file holds the
/// holder's pid, host and start time for the refusal to name. A file left by a dead holder is taken
/// over (the caller warns). flock is advisory and, on NFS, needs the server's lock service;
/// DOTNET_SYSTEM_IO_DISABLEFILELOCKING turns it off.
/// </summary>
public sealed partial class OutputLock : IDisposable
{
    private readonly FileStream _stream;

    private OutputLock(string path, FileStream stream, string? previous)
    {
        Path = path;
        _stream = stream;
        TookOverFrom = previous;
    }

    public string Path { get; }

    /// <summary>What a dead holder had written, when this lock took its file over.</summary>
    public string? TookOverFrom { get; }

    /// <summary>Takes the lock or throws <see cref="OutputLockedException"/>; <paramref name="wait"/> retries that long first.</summary>
    public static OutputLock Acquire(string path, TimeSpan wait = default)
    {
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            FileStream stream;
            try
            {
                stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            }
            catch (IOException) when (File.Exists(path))
            {
                if (DateTime.UtcNow < deadline)
                {
                    Thread.Sleep(50);
                    continue;
                }
                throw new OutputLockedException(path, ReadUnlocked(path) is { Length: > 0 } holder ? holder.Trim() : "a job that has not written its name yet");
            }
            catch (UnauthorizedAccessException e)
            {
                throw new UsageException($"The lock file '{path}' cannot be made: {e.Message}");
            }

            var previous = new StreamReader(stream, Encoding.UTF8, false, 1024, leaveOpen: true).ReadToEnd().Trim();
            var mine = Describe();
            stream.SetLength(0);
            stream.Write(Encoding.UTF8.GetBytes(mine));
            stream.Flush(flushToDisk: true);
            // The file may have been removed by its last holder between our open and our flock, and a
            // new one made by a third job: then ours is an orphan, and the path is not what we hold.
            if (ReadUnlocked(path) != mine)
            {
                stream.Dispose();
                continue;
            }
            return new OutputLock(path, stream, previous.Length > 0 ? previous : null);
        }
    }

    /// <summary>The lock file's text for whoever is refused: pid, host, start time and command line.</summary>
    private static string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"pid {Environment.ProcessId} on {Environment.MachineName}, started {System.Diagnostics.Process.GetCurrentProcess().StartTime.ToUniversalTime():yyyy-MM-dd HH:mm:ss}Z ({string.Join(' ', Environment.GetCommandLineArgs().Skip(1))})");

    /// <summary>
    /// Reads a file another process holds with FileShare.None: .NET's own open would ask flock for a
    /// shared lock and be refused, so this goes to libc's open and read, which take no lock.
    /// </summary>
    private static unsafe string? ReadUnlocked(string path)
    {
        var fd = LibC.Open(path, 0 /* O_RDONLY */);
        if (fd < 0)
            return null;
        try
        {
            var buffer = new byte[4096];
            fixed (byte* p = buffer)
            {
                var read = LibC.Read(fd, p, buffer.Length);
                return read < 0 ? null : Encoding.UTF8.GetString(buffer, 0, (int)read);
            }
        }
        finally
        {
            LibC.Close(fd);
        }
    }

    /// <summary>Removes the file, then lets go: a job that opened it meanwhile finds the path gone and retries.</summary>
    public void Dispose()
    {
        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
        }
        _stream.Dispose();
    }

    private static unsafe partial class LibC
    {
        [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
        public static partial int Open(string path, int flags);

        [LibraryImport("libc", EntryPoint = "read")]
        public static partial nint Read(int fd, byte* buffer, nint count);

        [LibraryImport("libc", EntryPoint = "close")]
        public static partial int Close(int fd);
    }
}
