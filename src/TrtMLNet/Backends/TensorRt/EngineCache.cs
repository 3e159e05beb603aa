using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace TrtMLNet.Backends.TensorRt;

/// <summary>What <see cref="EngineCache.GetOrBuild"/> handed back: the plan, and whether it came from disk or was just built.</summary>
internal sealed record EngineCacheResult(byte[] Plan, bool FromCache, string Path);

/// <summary>
/// Built TensorRT plans on disk, one file per <see cref="EngineCacheKey"/>, so an engine is built once
/// per model, options, TensorRT version and GPU, and loaded in seconds afterwards.
/// </summary>
/// <remarks>
/// <para>An entry is a header, the key's description and the plan:</para>
/// <code>
///  0  magic "TRTMLENG"         8 bytes
///  8  format version           int32 LE
/// 12  description length D     int32 LE
/// 16  key (SHA-256)            32 bytes
/// 48  plan length L            int64 LE
/// 56  plan SHA-256             32 bytes
/// 88  description              D bytes UTF-8 (EngineCacheKey.Description; its SHA-256 is the key)
///     plan                     L bytes
/// </code>
/// <para>
/// So a truncated, extended or corrupted file, or one written for another key (copied or renamed),
/// is told apart from a good one before TensorRT sees a byte; such an entry is reported through the
/// warning callback, deleted and rebuilt.
/// </para>
/// <para>
/// Concurrency: entries are written to a unique temporary file and renamed into place, so readers in
/// any process see a whole entry or none. Builders of one key take a lock first (a lock file held
/// open exclusively, plus an in-process lock for threads), and whoever gets it second finds the entry
/// built and loads it instead of building again. The lock is the open handle, not the file's
/// existence: the operating system drops it when its holder dies, so a crashed builder never blocks
/// anyone. Lock files stay behind (empty; deleting them would let two builders lock different files
/// of one name). Should locking fail or time out, building without the lock is still correct, only
/// redundant.
/// </para>
/// </remarks>
internal sealed class EngineCache
{
    public const string EntryExtension = ".trtengine";
    public const int FormatVersion = 1;
    public const int HeaderBytes = 88;

    private static ReadOnlySpan<byte> Magic => "TRTMLENG"u8;

    /// <summary>Descriptions are a few hundred bytes; a larger length is a corrupted header, not something to allocate.</summary>
    private const int MaxDescriptionBytes = 1 << 20;

    private static readonly Dictionary<string, KeyLock> s_keyLocks = new(OperatingSystem.IsWindows() ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);

    private readonly Action<string> _warn;

    public EngineCache(string directory, Action<string> warn)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentNullException.ThrowIfNull(warn);
        Directory = Path.GetFullPath(directory);
        _warn = warn;
    }

    /// <summary>The user's cache folder: %LOCALAPPDATA%\trtmlnet\engines on Windows, ~/.local/share/trtmlnet/engines elsewhere.</summary>
    public static string DefaultDirectory =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "trtmlnet", "engines");

    public string Directory { get; }

    /// <summary>
    /// How long to wait for another process building the same engine before building it here too.
    /// Large models take many minutes to build; waiting on is the cheaper outcome while that builder lives.
    /// </summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromHours(1);

    public string PathFor(EngineCacheKey key) => Path.Combine(Directory, key.Hex + EntryExtension);

    /// <summary>
    /// The cached plan for <paramref name="key"/>, else <paramref name="build"/>'s, which is then stored.
    /// A bad entry is reported, deleted and rebuilt; a cache that cannot be written is reported and the
    /// built plan returned all the same. Exceptions from <paramref name="build"/> propagate.
    /// </summary>
    public EngineCacheResult GetOrBuild(EngineCacheKey key, Func<byte[]> build)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(build);
        var path = PathFor(key);
        string? reported = null;
        if (TryReadReporting(path, key, ref reported) is { } cached)
            return new(cached, true, path);

        using (KeyLock.Acquire(path))
        {
            // Another thread of this process may have built it while this one waited.
            if (TryReadReporting(path, key, ref reported) is { } built)
                return new(built, true, path);
            using (AcquireFileLock(path))
            {
                // Or another process.
                if (TryReadReporting(path, key, ref reported) is { } other)
                    return new(other, true, path);
                // A bad entry goes now, not only when the new one replaces it: the build may fail.
                if (reported is not null)
                    AtomicFile.TryDelete(path);
                var plan = build();
                if (plan is null || plan.Length == 0)
                    throw new InvalidOperationException("The TensorRT build returned an empty plan.");
                TryWrite(key, plan);
                return new(plan, false, path);
            }
        }
    }

    /// <summary>
    /// Forgets an entry that passed its checks but proved unusable (TensorRT refused to load it):
    /// reported, deleted, and rebuilt by the next <see cref="GetOrBuild"/>.
    /// </summary>
    public void Invalidate(EngineCacheKey key, string reason)
    {
        var path = PathFor(key);
        _warn($"The cached TensorRT engine '{path}' is not usable: {reason}. It is deleted and will be rebuilt.");
        AtomicFile.TryDelete(path);
    }

    /// <summary>The entry's plan when it is present and whole; null when absent, or when bad (with why in <paramref name="problem"/>).</summary>
    public byte[]? TryRead(EngineCacheKey key, out string? problem) => TryRead(PathFor(key), key, out problem);

    /// <summary>Stores a plan (atomically); throws when the folder cannot be written.</summary>
    public void Write(EngineCacheKey key, byte[] plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var description = Encoding.UTF8.GetBytes(key.Description);
        var header = new byte[HeaderBytes];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(8), FormatVersion);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(12), description.Length);
        key.Hash.CopyTo(header.AsSpan(16));
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(48), plan.LongLength);
        SHA256.HashData(plan, header.AsSpan(56, 32));
        AtomicFile.Write(PathFor(key), stream =>
        {
            stream.Write(header);
            stream.Write(description);
            stream.Write(plan);
        });
    }

    private void TryWrite(EngineCacheKey key, byte[] plan)
    {
        try
        {
            Write(key, plan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _warn($"The TensorRT engine just built could not be saved in the engine cache '{Directory}' ({e.Message}); it is used all the same, " +
                "and will be built again next time. Set EngineCacheDirectory to a folder this process can write.");
        }
    }

    /// <summary>Reads an entry, reporting each distinct problem once per lookup.</summary>
    private byte[]? TryReadReporting(string path, EngineCacheKey key, ref string? reported)
    {
        var plan = TryRead(path, key, out var problem);
        if (problem is not null && problem != reported)
        {
            _warn($"Ignoring the cached TensorRT engine '{path}': {problem}. It will be rebuilt.");
            reported = problem;
        }
        return plan;
    }

    private static byte[]? TryRead(string path, EngineCacheKey key, out string? problem)
    {
        problem = null;
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16);
            return Read(file, key, out problem);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = $"it cannot be read ({e.Message})";
            return null;
        }
    }

    private static byte[]? Read(FileStream file, EngineCacheKey key, out string? problem)
    {
        var length = file.Length;
        var header = new byte[HeaderBytes];
        if (length < HeaderBytes || file.ReadAtLeast(header, HeaderBytes, throwOnEndOfStream: false) < HeaderBytes)
            return Bad(out problem, $"it is {length} bytes, shorter than its {HeaderBytes}-byte header (truncated)");
        if (!header.AsSpan(0, 8).SequenceEqual(Magic))
            return Bad(out problem, "it does not start as a TrtMLNet engine cache entry");
        var version = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(8));
        if (version != FormatVersion)
            return Bad(out problem, $"it has format version {version}, and this TrtMLNet reads version {FormatVersion}");
        var descriptionLength = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(12));
        var planLength = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(48));
        if (descriptionLength is <= 0 or > MaxDescriptionBytes || planLength <= 0)
            return Bad(out problem, "its header is corrupted (impossible lengths)");
        if (!header.AsSpan(16, 32).SequenceEqual(key.Hash))
            return Bad(out problem, $"its header is for another engine (key {Convert.ToHexStringLower(header.AsSpan(16, 32))}, expected {key.Hex})");
        var expectedLength = HeaderBytes + descriptionLength + planLength;
        if (length != expectedLength)
            return Bad(out problem, $"it is {length} bytes where its header promises {expectedLength} ({(length < expectedLength ? "truncated" : "trailing bytes")})");
        if (planLength > Array.MaxLength)
            return Bad(out problem, $"its plan of {planLength} bytes is larger than this process can hold in one array");

        var description = new byte[descriptionLength];
        file.ReadExactly(description);
        // The stored description must be the key's own: a mismatch means the bytes changed on disk.
        if (!SHA256.HashData(description).AsSpan().SequenceEqual(key.Hash))
            return Bad(out problem, "its stored description is corrupted (checksum mismatch)");
        var plan = new byte[planLength];
        file.ReadExactly(plan);
        if (!SHA256.HashData(plan).AsSpan().SequenceEqual(header.AsSpan(56, 32)))
            return Bad(out problem, "its plan is corrupted (checksum mismatch)");
        problem = null;
        return plan;
    }

    private static byte[]? Bad(out string? problem, string why)
    {
        problem = why;
        return null;
    }

    /// <summary>
    /// The cross-process build lock for an entry: its lock file, open with no sharing. Polls while
    /// another process holds it; null (build without it) after <see cref="LockTimeout"/> or when the
    /// folder cannot hold a lock file.
    /// </summary>
    private FileStream? AcquireFileLock(string entryPath)
    {
        var lockPath = Path.ChangeExtension(entryPath, ".lock");
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Writing the entry will fail and say so; there is nothing to lock against meanwhile.
            return null;
        }
        var clock = Stopwatch.StartNew();
        var delay = TimeSpan.FromMilliseconds(10);
        while (true)
        {
            try
            {
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 1);
            }
            catch (IOException e) when (IsHeldByAnother(e))
            {
                if (clock.Elapsed >= LockTimeout)
                {
                    _warn($"Waited {clock.Elapsed:h\\:mm\\:ss} for another process to finish building the TensorRT engine '{entryPath}' " +
                        $"(it holds '{lockPath}'); building it here too.");
                    return null;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _warn($"The engine cache lock '{lockPath}' cannot be taken ({e.Message}); building without it, so another process may build the same engine at the same time.");
                return null;
            }
            Thread.Sleep(delay);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 500));
        }
    }

    /// <summary>A sharing or lock violation: somebody holds the file open exclusively.</summary>
    private static bool IsHeldByAnother(IOException e)
    {
        if (e is FileNotFoundException or DirectoryNotFoundException or PathTooLongException)
            return false;
        // Windows: ERROR_SHARING_VIOLATION (32) or ERROR_LOCK_VIOLATION (33) as an HRESULT; Unix: flock's EWOULDBLOCK (EAGAIN, 11).
        var code = e.HResult & 0xFFFF;
        return OperatingSystem.IsWindows() ? code is 32 or 33 : e.HResult == 11 || code is 32 or 33;
    }

    /// <summary>One builder per entry among the threads of this process; the file lock handles other processes.</summary>
    private sealed class KeyLock
    {
        private readonly SemaphoreSlim _semaphore = new(1, 1);
        private int _users;

        public static IDisposable Acquire(string path)
        {
            KeyLock entry;
            lock (s_keyLocks)
            {
                if (!s_keyLocks.TryGetValue(path, out entry!))
                    s_keyLocks[path] = entry = new KeyLock();
                entry._users++;
            }
            entry._semaphore.Wait();
            return new Releaser(path, entry);
        }

        private sealed class Releaser(string path, KeyLock entry) : IDisposable
        {
            private int _released;

            public void Dispose()
            {
                if (Interlocked.Exchange(ref _released, 1) != 0)
                    return;
                entry._semaphore.Release();
                lock (s_keyLocks)
                {
                    if (--entry._users == 0)
                        s_keyLocks.Remove(path);
                }
            }
        }
    }
}
