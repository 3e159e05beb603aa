using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using TrtMLNet.Backends.TensorRt;

namespace TrtMLNet.Tests.TensorRt;

/// <summary>A fresh folder per test, removed afterwards.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"trtmlnet-tests-{Guid.NewGuid():N}");

    public string[] Files() => Directory.GetFiles(Path).Select(System.IO.Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A child process may still be letting go of a file; the OS cleans temp folders.
        }
    }
}

/// <summary>
/// The engine cache on disk, without TensorRT: the build is a delegate. Entries that are truncated,
/// corrupted or belong to another key are detected, reported and rebuilt; concurrent builders leave
/// one valid entry.
/// </summary>
public sealed class EngineCacheTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly ConcurrentQueue<string> _warnings = new();

    public void Dispose() => _folder.Dispose();

    internal static byte[] Plan(int seed, int length = 4096)
    {
        var plan = new byte[length];
        new Random(seed).NextBytes(plan);
        return plan;
    }

    private EngineCache Cache(TimeSpan? lockTimeout = null) =>
        new(_folder.Path, _warnings.Enqueue) { LockTimeout = lockTimeout ?? TimeSpan.FromMinutes(1) };

    [Fact]
    public void Builds_once_then_reads_the_entry()
    {
        var cache = Cache();
        var key = EngineCacheKeyTests.Key();
        var builds = 0;

        var first = cache.GetOrBuild(key, () => { builds++; return Plan(1); });
        var second = cache.GetOrBuild(key, () => { builds++; return Plan(2); });

        Assert.False(first.FromCache);
        Assert.True(second.FromCache);
        Assert.Equal(1, builds);
        Assert.Equal(Plan(1), second.Plan);
        Assert.Equal(cache.PathFor(key), second.Path);
        Assert.Equal([key.Hex + ".lock", key.Hex + EngineCache.EntryExtension], _folder.Files());
        Assert.Empty(_warnings);
    }

    [Fact]
    public void Another_key_is_another_entry()
    {
        var cache = Cache();
        var a = EngineCacheKeyTests.Key();
        var b = EngineCacheKeyTests.Key(gpu: "NVIDIA A100-SXM4-80GB");

        cache.GetOrBuild(a, () => Plan(1));
        var other = cache.GetOrBuild(b, () => Plan(2));

        Assert.False(other.FromCache);
        Assert.Equal(Plan(1), cache.GetOrBuild(a, () => throw new InvalidOperationException("cached")).Plan);
        Assert.Equal(Plan(2), cache.GetOrBuild(b, () => throw new InvalidOperationException("cached")).Plan);
    }

    [Fact]
    public void The_entry_is_laid_out_as_documented()
    {
        var cache = Cache();
        var key = EngineCacheKeyTests.Key();
        var plan = Plan(3, 1000);
        cache.Write(key, plan);

        var bytes = File.ReadAllBytes(cache.PathFor(key));
        var description = Encoding.UTF8.GetBytes(key.Description);

        Assert.Equal("TRTMLENG"u8.ToArray(), bytes[..8]);
        Assert.Equal(EngineCache.FormatVersion, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(8)));
        Assert.Equal(description.Length, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(12)));
        Assert.Equal(key.Hash.ToArray(), bytes[16..48]);
        Assert.Equal(plan.Length, BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(48)));
        Assert.Equal(SHA256.HashData(plan), bytes[56..88]);
        Assert.Equal(description, bytes[88..(88 + description.Length)]);
        Assert.Equal(plan, bytes[(88 + description.Length)..]);
    }

    /// <summary>Ways an entry goes bad, each with words the warning must contain.</summary>
    public static TheoryData<string, string> Damages => new()
    {
        { "flip a plan byte", "plan is corrupted" },
        { "flip the last byte", "plan is corrupted" },
        { "flip a description byte", "description is corrupted" },
        { "flip the plan checksum", "plan is corrupted" },
        { "flip the magic", "does not start as a TrtMLNet engine cache entry" },
        { "another format version", "format version 99" },
        { "truncate to nothing", "truncated" },
        { "truncate inside the header", "truncated" },
        { "truncate to the header", "truncated" },
        { "truncate by one byte", "truncated" },
        { "append a byte", "trailing bytes" },
        { "impossible description length", "impossible lengths" },
        { "impossible plan length", "impossible lengths" },
        { "header from another key", "another engine" },
    };

    [Theory]
    [MemberData(nameof(Damages))]
    public void A_damaged_entry_is_reported_and_rebuilt(string damage, string reason)
    {
        var cache = Cache();
        var key = EngineCacheKeyTests.Key();
        cache.Write(key, Plan(1));
        var path = cache.PathFor(key);
        Damage(cache, key, path, damage);
        Assert.Null(cache.TryRead(key, out var problem));
        Assert.Contains(reason, problem);

        var builds = 0;
        var result = cache.GetOrBuild(key, () => { builds++; return Plan(1); });

        Assert.False(result.FromCache);
        Assert.Equal(1, builds);
        Assert.Equal(Plan(1), result.Plan);
        var warning = Assert.Single(_warnings);
        Assert.Contains(path, warning);
        Assert.Contains(reason, warning);
        Assert.Contains("rebuilt", warning);
        // Rebuilt whole: the next lookup reads it without a word.
        Assert.Equal(Plan(1), cache.TryRead(key, out problem));
        Assert.Null(problem);
        Assert.True(cache.GetOrBuild(key, () => throw new InvalidOperationException("should be cached")).FromCache);
        Assert.Single(_warnings);
    }

    private static void Damage(EngineCache cache, EngineCacheKey key, string path, string damage)
    {
        var bytes = File.ReadAllBytes(path);
        var descriptionLength = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(12));
        switch (damage)
        {
            case "flip a plan byte": bytes[EngineCache.HeaderBytes + descriptionLength + 100] ^= 0x40; break;
            case "flip the last byte": bytes[^1] ^= 0x01; break;
            case "flip a description byte": bytes[EngineCache.HeaderBytes + 3] ^= 0x01; break;
            case "flip the plan checksum": bytes[60] ^= 0x01; break;
            case "flip the magic": bytes[0] ^= 0x01; break;
            case "another format version": BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), 99); break;
            case "truncate to nothing": bytes = []; break;
            case "truncate inside the header": bytes = bytes[..40]; break;
            case "truncate to the header": bytes = bytes[..EngineCache.HeaderBytes]; break;
            case "truncate by one byte": bytes = bytes[..^1]; break;
            case "append a byte": bytes = [.. bytes, 0]; break;
            case "impossible description length": BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(12), -5); break;
            case "impossible plan length": BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(48), 0); break;
            case "header from another key":
                // A whole, valid entry of another key, copied (or renamed) over this one.
                var other = EngineCacheKeyTests.Key(shimAbi: 7);
                cache.Write(other, Plan(1));
                bytes = File.ReadAllBytes(cache.PathFor(other));
                File.Delete(cache.PathFor(other));
                break;
            default: throw new ArgumentOutOfRangeException(nameof(damage), damage, null);
        }
        File.WriteAllBytes(path, bytes);
    }

    [Fact]
    public void A_bad_entry_is_gone_even_when_the_rebuild_fails()
    {
        var cache = Cache();
        var key = EngineCacheKeyTests.Key();
        cache.Write(key, Plan(1));
        var path = cache.PathFor(key);
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..100]);

        var error = Assert.Throws<InvalidOperationException>(() => cache.GetOrBuild(key, () => throw new InvalidOperationException("parser said no")));

        Assert.Equal("parser said no", error.Message);
        Assert.False(File.Exists(path));
        Assert.Single(_warnings);
    }

    [Fact]
    public void Invalidate_reports_and_deletes_so_the_next_lookup_builds()
    {
        var cache = Cache();
        var key = EngineCacheKeyTests.Key();
        cache.GetOrBuild(key, () => Plan(1));

        cache.Invalidate(key, "TensorRT refused to load it (magic tag)");

        var warning = Assert.Single(_warnings);
        Assert.Contains("TensorRT refused to load it (magic tag)", warning);
        Assert.Contains(cache.PathFor(key), warning);
        Assert.False(cache.GetOrBuild(key, () => Plan(2)).FromCache);
    }

    [Fact]
    public void An_empty_build_is_an_error_and_not_cached()
    {
        var cache = Cache();
        var key = EngineCacheKeyTests.Key();

        Assert.Throws<InvalidOperationException>(() => cache.GetOrBuild(key, () => []));

        Assert.False(File.Exists(cache.PathFor(key)));
    }

    [Fact]
    public void A_cache_folder_that_cannot_be_written_costs_a_warning_not_the_engine()
    {
        // A folder below a file cannot be created, whoever runs the test (root ignores permissions).
        var file = Path.Combine(_folder.Path, "a-file");
        File.WriteAllText(file, "not a folder");
        var cache = new EngineCache(Path.Combine(file, "engines"), _warnings.Enqueue);
        var key = EngineCacheKeyTests.Key();

        var result = cache.GetOrBuild(key, () => Plan(1));

        Assert.Equal(Plan(1), result.Plan);
        Assert.False(result.FromCache);
        var warning = Assert.Single(_warnings);
        Assert.Contains("could not be saved in the engine cache", warning);
        Assert.Contains("EngineCacheDirectory", warning);
    }

    [Fact]
    public async Task Concurrent_builders_on_threads_build_once_and_all_get_the_plan()
    {
        var cache = Cache();
        var key = EngineCacheKeyTests.Key();
        const int Builders = 16;
        var builds = 0;
        using var start = new Barrier(Builders);

        var builders = Enumerable.Range(0, Builders).Select(_ => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait();
            return cache.GetOrBuild(key, () =>
            {
                Interlocked.Increment(ref builds);
                Thread.Sleep(200);
                return Plan(5, 1 << 20);
            });
        }, TestContext.Current.CancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
        var results = await Task.WhenAll(builders);

        Assert.Equal(1, builds);
        Assert.All(results, r => Assert.Equal(Plan(5, 1 << 20), r.Plan));
        Assert.Equal(Builders - 1, results.Count(r => r.FromCache));
        Assert.Equal([key.Hex + ".lock", key.Hex + EngineCache.EntryExtension], _folder.Files());
        Assert.Empty(_warnings);
    }

    [Fact]
    public async Task Concurrent_writers_and_readers_never_see_a_partial_entry()
    {
        // Writers without the build lock (as when locking timed out): every rename lands a whole file,
        // so readers see no entry or a whole one, never a torn one.
        var cache = Cache();
        var key = EngineCacheKeyTests.Key();
        var plans = Enumerable.Range(0, 4).Select(i => Plan(i, (1 << 20) + i * 4099)).ToArray();
        var problems = new ConcurrentQueue<string>();
        var seen = new ConcurrentDictionary<int, bool>();
        using var stop = new CancellationTokenSource();

        var readers = Enumerable.Range(0, 3).Select(_ => Task.Factory.StartNew(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                var plan = cache.TryRead(key, out var problem);
                if (problem is not null)
                    problems.Enqueue(problem);
                if (plan is not null)
                    seen[Array.FindIndex(plans, p => p.AsSpan().SequenceEqual(plan))] = true;
            }
        }, TestContext.Current.CancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
        var writers = plans.Select(plan => Task.Factory.StartNew(() =>
        {
            for (var i = 0; i < 25; i++)
                cache.Write(key, plan);
        }, TestContext.Current.CancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
        await Task.WhenAll(writers);
        await stop.CancelAsync();
        await Task.WhenAll(readers);

        Assert.Empty(problems);
        Assert.DoesNotContain(-1, seen.Keys);
        Assert.NotNull(cache.TryRead(key, out var last));
        Assert.Null(last);
        Assert.Equal([key.Hex + EngineCache.EntryExtension], _folder.Files());
    }

    [Fact]
    public void A_lock_held_too_long_is_reported_and_the_engine_built_anyway()
    {
        var cache = Cache(lockTimeout: TimeSpan.FromMilliseconds(300));
        var key = EngineCacheKeyTests.Key();
        var lockPath = Path.ChangeExtension(cache.PathFor(key), ".lock");
        // Held as another process would hold it: open with no sharing.
        using (new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            var result = cache.GetOrBuild(key, () => Plan(1));

            Assert.False(result.FromCache);
            Assert.Equal(Plan(1), result.Plan);
        }
        var warning = Assert.Single(_warnings);
        Assert.Contains("another process", warning);
        Assert.Contains(lockPath, warning);
    }

    [Fact]
    public void Stale_temporary_files_of_dead_writers_are_removed()
    {
        var cache = Cache();
        var key = EngineCacheKeyTests.Key();
        var stale = cache.PathFor(key) + ".4242.deadbeef.tmp";
        var fresh = cache.PathFor(key) + ".4243.cafebabe.tmp";
        File.WriteAllText(stale, "half an engine");
        File.WriteAllText(fresh, "an engine being written right now");
        File.SetLastWriteTimeUtc(stale, DateTime.UtcNow.AddHours(-2));

        cache.Write(key, Plan(1));

        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(fresh));
    }
}

/// <summary>Builders in several processes, and a builder that dies holding the lock.</summary>
public sealed class EngineCacheProcessTests : IDisposable
{
    private const string BuildMode = "engine-cache-build";
    private const string HoldMode = "engine-cache-hold";
    private const int PlanSeed = 11;
    private const int PlanBytes = 3 << 20;

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    internal static void RegisterChildModes()
    {
        // Argument: "<cache folder>|<folder where each build leaves a file>".
        ChildProcess.Register(BuildMode, argument =>
        {
            var (cacheFolder, builds) = Split(argument);
            var warnings = new List<string>();
            var result = new EngineCache(cacheFolder, warnings.Add).GetOrBuild(EngineCacheKeyTests.Key(), () =>
            {
                File.WriteAllText(Path.Combine(builds, $"{Environment.ProcessId}.built"), "");
                Thread.Sleep(500);
                return EngineCacheTests.Plan(PlanSeed, PlanBytes);
            });
            Console.WriteLine($"{(result.FromCache ? "cached" : "built")} {Convert.ToHexStringLower(SHA256.HashData(result.Plan))} warnings={warnings.Count}");
            return 0;
        });
        // Takes the build lock, says so, and never finishes building: a builder to kill.
        ChildProcess.Register(HoldMode, argument =>
        {
            var (cacheFolder, _) = Split(argument);
            new EngineCache(cacheFolder, _ => { }).GetOrBuild(EngineCacheKeyTests.Key(), () =>
            {
                Console.WriteLine("building");
                Console.Out.Flush();
                Thread.Sleep(Timeout.Infinite);
                return [];
            });
            return 0;
        });
    }

    private static (string, string) Split(string argument)
    {
        var parts = argument.Split('|');
        return (parts[0], parts[1]);
    }

    [Fact]
    public async Task Builders_in_several_processes_build_once_and_all_get_a_valid_plan()
    {
        var cacheFolder = Path.Combine(_folder.Path, "cache");
        var builds = Directory.CreateDirectory(Path.Combine(_folder.Path, "builds")).FullName;
        var expected = Convert.ToHexStringLower(SHA256.HashData(EngineCacheTests.Plan(PlanSeed, PlanBytes)));

        var children = Enumerable.Range(0, 4)
            .Select(_ => Task.Run(() => ChildProcess.Run(BuildMode, $"{cacheFolder}|{builds}", TimeSpan.FromMinutes(2)), TestContext.Current.CancellationToken))
            .ToArray();
        var results = await Task.WhenAll(children);

        foreach (var child in results)
        {
            Assert.True(child.ExitCode == 0, $"child failed ({child.ExitCode}): {child.Output}{child.Error}");
            Assert.Matches($"^(built|cached) {expected} warnings=0\\s*$", child.Output);
        }
        Assert.Single(Directory.GetFiles(builds));
        Assert.Equal(1, results.Count(c => c.Output.StartsWith("built", StringComparison.Ordinal)));
        var cache = new EngineCache(cacheFolder, message => Assert.Fail(message));
        Assert.Equal(EngineCacheTests.Plan(PlanSeed, PlanBytes), cache.TryRead(EngineCacheKeyTests.Key(), out var problem));
        Assert.Null(problem);
        Assert.DoesNotContain(Directory.GetFiles(cacheFolder), f => f.EndsWith(".tmp", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_builder_that_dies_holding_the_lock_blocks_nobody()
    {
        var cacheFolder = Path.Combine(_folder.Path, "cache");
        using var holder = ChildProcess.Start(HoldMode, $"{cacheFolder}|-");
        try
        {
            string? line;
            try
            {
                line = await holder.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken);
            }
            catch (TimeoutException)
            {
                line = null;
            }
            if (line != "building")
            {
                holder.Kill(entireProcessTree: true);
                Assert.Fail($"The holder did not take the lock: '{line}' {await holder.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken)}");
            }

            // While it lives, its lock holds: a short wait ends in building here too, with a warning.
            var warnings = new List<string>();
            var impatient = new EngineCache(cacheFolder, warnings.Add) { LockTimeout = TimeSpan.FromMilliseconds(500) };
            var otherKey = EngineCacheKeyTests.Key(gpu: "another GPU, so this test's build does not satisfy the next step");
            Assert.False(impatient.GetOrBuild(otherKey, () => EngineCacheTests.Plan(1)).FromCache); // another key: no waiting
            Assert.Empty(warnings);
            impatient.GetOrBuild(EngineCacheKeyTests.Key(), () => EngineCacheTests.Plan(PlanSeed, PlanBytes));
            Assert.Contains(warnings, w => w.Contains("another process", StringComparison.Ordinal));
            File.Delete(impatient.PathFor(EngineCacheKeyTests.Key()));
        }
        finally
        {
            holder.Kill(entireProcessTree: true);
            holder.WaitForExit();
        }

        // Dead: the operating system dropped its lock, so a patient builder goes ahead at once.
        var patient = new EngineCache(cacheFolder, message => Assert.Fail(message)) { LockTimeout = TimeSpan.FromMinutes(5) };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = patient.GetOrBuild(EngineCacheKeyTests.Key(), () => EngineCacheTests.Plan(PlanSeed, PlanBytes));

        Assert.False(result.FromCache);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"waited {clock.Elapsed} for a dead holder's lock");
    }
}
