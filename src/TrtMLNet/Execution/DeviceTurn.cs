namespace TrtMLNet.Execution;

/// <summary>
/// One lane at a time on the device, for batches whose upload waits for all work queued on it (nvJPEG's
/// hardware decoder: <c>nvjpegDecodeBatched</c> returns only once every stream of the context is idle). Left
/// to themselves, two such lanes interleave badly: one's decode waits for the other's engine, their engines
/// overlap and each runs slower (on the H200, compute per ResNet-50 batch rose from 16 to 20-26 ms). Taking
/// turns, a lane decodes while the device is otherwise idle and runs its engine alone, while the other lanes
/// do their host work (reading headers, handing back outputs) and wait for the turn.
/// </summary>
internal sealed class DeviceTurn : IDisposable
{
    private readonly SemaphoreSlim _turn = new(1, 1);

    /// <summary>Waits for the turn; disposing the result gives it back.</summary>
    public Held Take()
    {
        _turn.Wait();
        return new Held(_turn);
    }

    public readonly struct Held(SemaphoreSlim turn) : IDisposable
    {
        public void Dispose() => turn.Release();
    }

    public void Dispose() => _turn.Dispose();
}
