namespace TrtMLNet.Execution;

/// <summary>
/// One lane at a time on the device, for batches whose upload says so (<see cref="Device.DeviceTurnFrom"/>).
/// Left to themselves, two lanes decoding images interleave badly: their engines overlap and each runs slower
/// (on the H200, compute per ResNet-50 batch rose from 16 to 20-29 ms), and with nvJPEG's hardware decoder,
/// whose <c>nvjpegDecodeBatched</c> returns only once every stream of the context is idle, one lane's decode
/// also waits for the other's engine. With the hardware decoder a lane holds the turn from its upload: it
/// decodes while the device is otherwise idle. With the hybrid decoder it holds it from its engine's
/// execution: it decodes beside the other lane's engine. Either way the engines run one at a time, while
/// the other lanes do their host work and wait for the turn.
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
