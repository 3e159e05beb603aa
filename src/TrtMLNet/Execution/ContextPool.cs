using TrtMLNet.Backends;

namespace TrtMLNet.Execution;

/// <summary>
/// The execution contexts of one engine, per optimization profile. A lane rents one for one batch and
/// returns it only after that batch's work has completed on the device, so a context is never queued on
/// two streams at once (TensorRT forbids it: a context's state belongs to one execution at a time).
/// </summary>
internal sealed class ContextPool : IDisposable
{
    private readonly Dictionary<int, ProfileContexts> _byProfile = [];
    private bool _disposed;

    public ContextPool(IInferenceEngine engine, ComputeDevice device, int perProfile, bool ownScratch, ExecutionStream setupStream)
    {
        try
        {
            foreach (var profile in engine.Profiles)
            {
                var contexts = new ProfileContexts();
                _byProfile[profile.Index] = contexts;
                for (var i = 0; i < perProfile; i++)
                {
                    var context = engine.CreateContext(profile.Index, setupStream.Handle);
                    NativeBuffer? scratch = null;
                    try
                    {
                        if (ownScratch && engine.UsesCallerScratch && engine.ScratchBytes(profile.Index) is > 0 and var bytes)
                            scratch = device.AllocateDevice(bytes, $"own scratch of context {i} (profile {profile.Index})");
                    }
                    catch
                    {
                        context.Dispose();
                        throw;
                    }
                    var entry = new PooledContext(context, scratch);
                    contexts.All.Add(entry);
                    contexts.Free.Enqueue(entry);
                }
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public IEnumerable<PooledContext> All => _byProfile.Values.SelectMany(p => p.All);

    /// <summary>Waits for a free context on the profile.</summary>
    public PooledContext Rent(int profile)
    {
        var contexts = _byProfile[profile];
        lock (contexts)
        {
            while (contexts.Free.Count == 0)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                Monitor.Wait(contexts);
            }
            return contexts.Free.Dequeue();
        }
    }

    /// <summary>Gives a context back. Call only once the work it was used for has completed.</summary>
    public void Return(PooledContext context)
    {
        var contexts = _byProfile[context.Context.Profile];
        lock (contexts)
        {
            contexts.Free.Enqueue(context);
            Monitor.Pulse(contexts);
        }
    }

    public void Dispose()
    {
        _disposed = true;
        foreach (var contexts in _byProfile.Values)
        {
            lock (contexts)
            {
                foreach (var entry in contexts.All)
                {
                    entry.Context.Dispose();
                    entry.OwnScratch?.Dispose();
                }
                contexts.All.Clear();
                contexts.Free.Clear();
                Monitor.PulseAll(contexts);
            }
        }
    }

    private sealed class ProfileContexts
    {
        public List<PooledContext> All { get; } = [];

        public Queue<PooledContext> Free { get; } = [];
    }
}

/// <summary>A context and, when scratch is not shared, the scratch it owns.</summary>
internal sealed record PooledContext(IEngineContext Context, NativeBuffer? OwnScratch);
