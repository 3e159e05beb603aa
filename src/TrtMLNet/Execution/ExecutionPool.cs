using System.Collections.Concurrent;
using TrtMLNet.Device;

namespace TrtMLNet.Execution;

/// <summary>
/// Everything one device shares among the models on it: the lanes (batches in flight), the scratch
/// arena and the staging buffers. There is one pool per device per process, whatever the number of
/// <c>ApplyTensorRt</c> stages or models; it lives while a model uses it and frees all it holds when
/// the last one leaves, so device memory returns to where it started.
/// </summary>
internal sealed class ExecutionPool
{
    private static readonly Lock s_poolsLock = new();
    // Keyed by the device itself: ComputeDevice.Gpu gives one object per GPU, and tests bring devices of their own.
    private static readonly Dictionary<ComputeDevice, ExecutionPool> s_pools = [];

    private readonly BlockingCollection<BatchJob> _queue = new();
    private readonly List<Lane> _lanes = [];
    private readonly List<ModelRuntime> _models = [];
    private readonly Dictionary<ModelRuntime, (int Lanes, long IoBytes)> _laneNeeds = [];
    private readonly object _gate = new();
    private int _activeJobs;
    private bool _quiesced;
    private int _references;

    private readonly IDisposable _deviceUse;

    private ExecutionPool(ComputeDevice device)
    {
        Device = device;
        _deviceUse = device.BeginUse();
        Arena = new ScratchArena(device);
        Staging = new StagingPool(device);
    }

    public ComputeDevice Device { get; }

    /// <summary>Pools alive now (a pool lives while a model uses its device): for tests that check everything was let go.</summary>
    internal static int LiveCount
    {
        get { lock (s_poolsLock) return s_pools.Count; }
    }

    /// <summary>Whether a pool runs for this device now: for tests that check a pool was let go.</summary>
    internal static bool IsRunning(ComputeDevice device)
    {
        lock (s_poolsLock) return s_pools.ContainsKey(device);
    }

    public ScratchArena Arena { get; }

    /// <summary>Taken by lanes whose batches' uploads wait for the whole device (see <see cref="Execution.DeviceTurn"/>).</summary>
    public DeviceTurn DeviceTurn { get; } = new();

    public StagingPool Staging { get; }

    public IReadOnlyList<Lane> Lanes
    {
        get { lock (_gate) return [.. _lanes]; }
    }

    public IReadOnlyList<ModelRuntime> Models
    {
        get { lock (_gate) return [.. _models]; }
    }

    /// <summary>The device's pool, started if none runs; pair with <see cref="Release"/>.</summary>
    public static ExecutionPool Acquire(ComputeDevice device)
    {
        lock (s_poolsLock)
        {
            if (!s_pools.TryGetValue(device, out var pool))
                s_pools[device] = pool = new ExecutionPool(device);
            pool._references++;
            return pool;
        }
    }

    public void Release()
    {
        lock (s_poolsLock)
        {
            if (--_references > 0)
                return;
            s_pools.Remove(Device);
        }
        Shutdown();
    }

    /// <summary>
    /// Lends an idle scratch slab to user code (see <see cref="ScratchLoan"/>). The loan holds a
    /// reference on the pool, so the slab's memory outlives every model until it comes back.
    /// </summary>
    public ScratchLoan BorrowScratch(long minimumBytes, IntPtr cudaStream)
    {
        lock (s_poolsLock)
        {
            if (_references == 0)
                throw new ObjectDisposedException($"The execution pool of {Device}", "Its models were disposed.");
            _references++;
        }
        try
        {
            Device.MakeCurrent();
            var stream = cudaStream == IntPtr.Zero ? null : Device.BorrowStream(cudaStream);
            var slab = Arena.Borrow(minimumBytes, stream);
            return new ScratchLoan(slab.Buffer!.Pointer, slab.Buffer.Bytes, returnedOn =>
            {
                try
                {
                    Device.MakeCurrent();
                    Arena.Return(slab, returnedOn == IntPtr.Zero ? null : Device.BorrowStream(returnedOn));
                }
                finally
                {
                    Release();
                }
            });
        }
        catch
        {
            Release();
            throw;
        }
    }

    /// <summary>
    /// Makes room for a model: enough lanes, IO buffers for its batch in every lane, and its scratch in
    /// the arena. Lanes are paused between jobs while buffers change. On failure nothing is kept.
    /// </summary>
    public void Register(ModelRuntime model, int lanes, long ioBytesPerLane, long scratchBytes, int scratchSlabs)
    {
        Quiesce(() =>
        {
            _laneNeeds[model] = (lanes, ioBytesPerLane);
            try
            {
                while (_lanes.Count < _laneNeeds.Values.Max(n => n.Lanes))
                    _lanes.Add(new Lane(this, _lanes.Count, _queue));
                var io = _laneNeeds.Values.Max(n => n.IoBytes);
                foreach (var lane in _lanes)
                    lane.EnsureIoCapacity(io);
                if (scratchBytes > 0)
                    Arena.Register(model, scratchBytes, scratchSlabs);
                _models.Add(model);
            }
            catch
            {
                // A failed growth may have freed a lane's buffers: give the other models back theirs.
                _laneNeeds.Remove(model);
                var io = _laneNeeds.Values.Select(n => n.IoBytes).DefaultIfEmpty(0).Max();
                foreach (var lane in _lanes)
                    lane.EnsureIoCapacity(io);
                throw;
            }
        });
    }

    public void Unregister(ModelRuntime model)
    {
        Quiesce(() =>
        {
            _laneNeeds.Remove(model);
            _models.Remove(model);
            Arena.Unregister(model);
        });
    }

    public void Submit(BatchJob job)
    {
        job.Start();
        try
        {
            _queue.Add(job);
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
        {
            // Completed either way, so that nobody waits for a job no lane will take.
            job.Complete(new ObjectDisposedException($"The execution pool of {Device}", "The pool was shut down: its models were disposed."));
        }
    }

    internal void EnterJob()
    {
        lock (_gate)
        {
            while (_quiesced)
                Monitor.Wait(_gate);
            _activeJobs++;
        }
    }

    internal void ExitJob()
    {
        lock (_gate)
        {
            _activeJobs--;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Runs <paramref name="change"/> while no lane runs a job: jobs queued meanwhile wait.</summary>
    private void Quiesce(Action change)
    {
        lock (_gate)
        {
            while (_quiesced)
                Monitor.Wait(_gate);
            _quiesced = true;
            while (_activeJobs > 0)
                Monitor.Wait(_gate);
            try
            {
                Device.MakeCurrent();
                change();
            }
            finally
            {
                _quiesced = false;
                Monitor.PulseAll(_gate);
            }
        }
    }

    private void Shutdown()
    {
        _queue.CompleteAdding();
        foreach (var lane in _lanes)
            lane.Dispose();
        _lanes.Clear();
        Arena.Dispose();
        Staging.Dispose();
        DeviceTurn.Dispose();
        _queue.Dispose();
        _deviceUse.Dispose();
    }
}
