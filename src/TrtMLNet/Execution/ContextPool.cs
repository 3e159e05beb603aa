using TrtMLNet.Backends;
using TrtMLNet.Device;

namespace TrtMLNet.Execution;

/// <summary>
/// The execution contexts of one engine. A lane rents one for one batch and returns it only after
/// that batch's work has completed on the device, so a context is never queued on two streams at
/// once (TensorRT forbids it: a context's state belongs to one execution at a time).
///
/// Where the engine says so (<see cref="IInferenceEngine.ContextsNeedOwnProfile"/>: TensorRT with
/// dynamic shapes), every context is pinned to a profile of its own, one per profile, because
/// contexts in concurrent use must not share an optimization profile. The engine is then built with
/// the same shape ranges repeated once per context. Elsewhere <c>perProfile</c> contexts share each profile.
/// </summary>
internal sealed class ContextPool : IDisposable
{
    private readonly object _lock = new();
    private readonly List<PooledContext> _all = [];
    private readonly List<PooledContext> _free = [];
    private bool _disposed;

    public ContextPool(IInferenceEngine engine, ComputeDevice device, int perProfile, bool ownScratch, DeviceStream setupStream)
    {
        var perEngineProfile = engine.ContextsNeedOwnProfile ? 1 : perProfile;
        try
        {
            foreach (var profile in engine.Profiles)
            {
                for (var i = 0; i < perEngineProfile; i++)
                {
                    var context = engine.CreateContext(profile.Index, setupStream);
                    DeviceBuffer? scratch = null;
                    try
                    {
                        if (ownScratch && engine.UsesCallerScratch && engine.ScratchBytes(profile.Index) is > 0 and var bytes)
                            scratch = device.AllocateDevice(bytes, $"own scratch of context {_all.Count} (profile {profile.Index})");
                    }
                    catch
                    {
                        context.Dispose();
                        throw;
                    }
                    var entry = new PooledContext(context, scratch);
                    _all.Add(entry);
                    _free.Add(entry);
                }
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public IReadOnlyList<PooledContext> All
    {
        get { lock (_lock) return [.. _all]; }
    }

    /// <summary>Waits for a free context on any of <paramref name="profiles"/> (the ones that accept the batch).</summary>
    public PooledContext Rent(IReadOnlyList<int> profiles)
    {
        lock (_lock)
        {
            while (true)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                for (var i = 0; i < _free.Count; i++)
                {
                    if (!Contains(profiles, _free[i].Context.Profile))
                        continue;
                    var context = _free[i];
                    _free.RemoveAt(i);
                    return context;
                }
                if (!_all.Any(c => Contains(profiles, c.Context.Profile)))
                    throw new InvalidOperationException($"The engine has no context on optimization profile(s) {string.Join(", ", profiles)}.");
                Monitor.Wait(_lock);
            }
        }
    }

    /// <summary>Gives a context back. Call only once the work it was used for has completed.</summary>
    public void Return(PooledContext context)
    {
        lock (_lock)
        {
            _free.Add(context);
            Monitor.PulseAll(_lock);
        }
    }

    private static bool Contains(IReadOnlyList<int> profiles, int profile)
    {
        for (var i = 0; i < profiles.Count; i++)
            if (profiles[i] == profile)
                return true;
        return false;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            foreach (var entry in _all)
            {
                entry.Context.Dispose();
                entry.OwnScratch?.Dispose();
            }
            _all.Clear();
            _free.Clear();
            Monitor.PulseAll(_lock);
        }
    }
}

/// <summary>A context and, when scratch is not shared, the scratch it owns.</summary>
internal sealed record PooledContext(IEngineContext Context, DeviceBuffer? OwnScratch);
