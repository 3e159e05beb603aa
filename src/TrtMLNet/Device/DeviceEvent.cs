using TrtMLNet.Native.Cuda;

namespace TrtMLNet.Device;

/// <summary>
/// A point in a stream's work that other streams and the host can wait for (a CUDA event on a GPU).
/// Devices whose streams run their work inline (the CPU) have none.
/// </summary>
internal abstract class DeviceEvent : IDisposable
{
    /// <summary>Places the event after everything queued on <paramref name="stream"/> so far.</summary>
    public abstract void Record(DeviceStream stream);

    /// <summary>Makes <paramref name="stream"/>'s later work wait until the event has passed (no host wait).</summary>
    public abstract void MakeStreamWait(DeviceStream stream);

    /// <summary>Blocks the calling thread until the event has passed.</summary>
    public abstract void Synchronize();

    /// <summary>Whether the event has passed, without blocking.</summary>
    public abstract bool IsComplete();

    public abstract void Dispose();
}

internal sealed class CudaDeviceEvent(CudaEvent cudaEvent) : DeviceEvent
{
    internal CudaEvent Native => cudaEvent;

    public override void Record(DeviceStream stream) => cudaEvent.Record(CudaStreamOf(stream));

    public override void MakeStreamWait(DeviceStream stream) => CudaStreamOf(stream).Wait(cudaEvent);

    public override void Synchronize() => cudaEvent.Synchronize();

    public override bool IsComplete() => cudaEvent.IsComplete();

    public override void Dispose() => cudaEvent.Dispose();

    private static CudaStream CudaStreamOf(DeviceStream stream) =>
        (stream as CudaDeviceStream)?.Native
        ?? throw new InvalidOperationException($"A CUDA event cannot be placed in or waited for by a {stream.GetType().Name}: both must come from the same GPU device.");
}
