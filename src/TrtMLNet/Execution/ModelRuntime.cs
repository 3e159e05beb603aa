using TrtMLNet.Backends;
using TrtMLNet.Device;

namespace TrtMLNet.Execution;

/// <summary>How a model uses its device's pool.</summary>
internal sealed record RuntimeSettings(string ModelName, int Lanes, int ContextsPerProfile, bool ShareScratch, int ScratchSlabs, long IoBytesPerLane);

/// <summary>
/// An engine placed on its device's pool: its contexts, its scratch registered in the arena, IO room
/// in every lane. It is reference counted: the transformer holds it and so does every open cursor, so
/// disposing a transformer while a cursor still reads lets that cursor finish, and the engine's device
/// memory goes when the last of them lets go.
/// </summary>
internal sealed class ModelRuntime
{
    private readonly ExecutionPool _pool;
    private readonly long[] _scratchByProfile;
    private readonly List<IDisposable> _attachments = [];
    private int _references = 1;
    private volatile bool _closed;

    public ModelRuntime(IInferenceEngine engine, ExecutionPool pool, RuntimeSettings settings)
    {
        Engine = engine;
        _pool = pool;
        Settings = settings;
        _scratchByProfile = engine.Profiles.Select(p => engine.ScratchBytes(p.Index) ?? 0).ToArray();
        SharesScratch = settings.ShareScratch && engine.UsesCallerScratch;

        using var setupStream = pool.Device.CreateStream();
        Contexts = new ContextPool(engine, pool.Device, settings.ContextsPerProfile, ownScratch: !SharesScratch, setupStream);
        try
        {
            pool.Register(this, settings.Lanes, settings.IoBytesPerLane,
                SharesScratch ? _scratchByProfile.DefaultIfEmpty(0).Max() : 0, settings.ScratchSlabs);
        }
        catch
        {
            Contexts.Dispose();
            throw;
        }
    }

    public IInferenceEngine Engine { get; }

    public ExecutionPool Pool => _pool;

    public RuntimeSettings Settings { get; }

    public ContextPool Contexts { get; }

    public bool SharesScratch { get; }

    public long ScratchNeed(int profile) => _scratchByProfile[profile];

    /// <summary>Something that lives as long as the engine on this device (a decoder per lane, say), freed before it.</summary>
    public void Attach(IDisposable attachment)
    {
        lock (_attachments)
            _attachments.Add(attachment);
    }

    /// <summary>What the attachments that say so hold (<see cref="IHoldsMemory"/>): the image decoders' buffers.</summary>
    public HeldMemory AttachedMemory
    {
        get
        {
            lock (_attachments)
                return _attachments.OfType<IHoldsMemory>().Aggregate(new HeldMemory(), (sum, a) => sum + a.Held);
        }
    }

    /// <summary>Takes a reference for a cursor; false once its owner has closed it.</summary>
    public bool TryAddReference()
    {
        while (!_closed)
        {
            var current = Volatile.Read(ref _references);
            if (current == 0)
                return false;
            if (Interlocked.CompareExchange(ref _references, current + 1, current) == current)
                return true;
        }
        return false;
    }

    /// <summary>The owner's release: no new cursor may start; open ones finish and release their own references.</summary>
    public void Close()
    {
        _closed = true;
        Release();
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) != 0)
            return;
        _pool.Unregister(this);
        _pool.Device.MakeCurrent();
        lock (_attachments)
            foreach (var attachment in _attachments)
                attachment.Dispose();
        Contexts.Dispose();
        Engine.Dispose();
        _pool.Release();
    }
}
