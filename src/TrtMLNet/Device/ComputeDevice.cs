using TrtMLNet.Native.Cuda;

namespace TrtMLNet.Device;

/// <summary>
/// Where models run: the CPU or one CUDA device. It makes the memory, streams and events that the
/// execution layer and the backends need, so lanes, the scratch arena and the engines are written
/// once for both. Tests make their own kinds (a device whose streams run on a worker, say).
/// </summary>
internal abstract class ComputeDevice
{
    public static ComputeDevice Cpu { get; } = new CpuComputeDevice();

    private static readonly Lock s_gpuLock = new();
    private static readonly Dictionary<int, CudaComputeDevice> s_gpus = [];

    private readonly Lock _useLock = new();
    private int _uses;
    private long? _baselineFreeBytes;

    /// <summary>The GPU with this ordinal; throws <see cref="CudaException"/> saying why when it cannot be used.</summary>
    public static ComputeDevice Gpu(int ordinal)
    {
        var device = CudaDriver.GetDevice(ordinal);
        lock (s_gpuLock)
        {
            if (!s_gpus.TryGetValue(ordinal, out var gpu))
                s_gpus[ordinal] = gpu = new CudaComputeDevice(device);
            return gpu;
        }
    }

    /// <summary>CUDA ordinal, or -1 for the CPU.</summary>
    public abstract int Id { get; }

    /// <summary>For messages and reports, e.g. "GPU 0 (NVIDIA H200)" or "CPU".</summary>
    public abstract string Name { get; }

    /// <summary>The name the driver gives the model, e.g. "NVIDIA H200"; what engine caches key on.</summary>
    public abstract string ModelName { get; }

    /// <summary>Compute capability on a GPU; null on the CPU.</summary>
    public abstract Version? ComputeCapability { get; }

    /// <summary>True when device memory is host memory, so staging buffers can serve as IO buffers directly.</summary>
    public abstract bool SharesHostMemory { get; }

    /// <summary>Device memory, at least 256-byte aligned (what TensorRT asks of tensor addresses).</summary>
    public abstract DeviceBuffer AllocateDevice(long bytes, string purpose);

    /// <summary>Host memory that device copies can overlap with (pinned on a GPU).</summary>
    public abstract DeviceBuffer AllocateStaging(long bytes, string purpose);

    public abstract DeviceStream CreateStream();

    /// <summary>A stream that belongs to the caller, for ordering only: never destroyed here.</summary>
    public abstract DeviceStream BorrowStream(IntPtr nativeStream);

    /// <summary>An event to place in a stream and wait for; null where streams run their work inline (the CPU).</summary>
    public abstract DeviceEvent? CreateEvent(bool timing = false);

    public Fence CreateFence() => new(CreateEvent());

    /// <summary>Free and total device memory as the driver reports it; null on the CPU.</summary>
    public abstract (long Free, long Total)? MemoryInfo();

    /// <summary>Makes this device's context current on the calling thread (a no-op on the CPU).</summary>
    public abstract void MakeCurrent();

    /// <summary>
    /// Free device memory when the device's current users began, before any of them allocated: the
    /// memory report measures against it. Null on the CPU or while nothing uses the device.
    /// </summary>
    public long? BaselineFreeBytes
    {
        get { lock (_useLock) return _baselineFreeBytes; }
    }

    /// <summary>
    /// Declares a user (an engine, a pool) that is about to allocate on this device; dispose the
    /// result when it has freed everything. The first user of an idle device takes the baseline.
    /// </summary>
    public IDisposable BeginUse()
    {
        lock (_useLock)
        {
            if (_uses++ == 0)
                _baselineFreeBytes = MemoryInfo()?.Free;
        }
        return new DeviceUse(this);
    }

    private void EndUse()
    {
        lock (_useLock)
        {
            if (--_uses == 0)
                _baselineFreeBytes = null;
        }
    }

    public override string ToString() => Name;

    private sealed class DeviceUse(ComputeDevice device) : IDisposable
    {
        private int _ended;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _ended, 1) == 0)
                device.EndUse();
        }
    }
}

/// <summary>The CPU: host memory serves as device memory, and work is done when it is enqueued. Tests derive
/// their own CPU devices from it (a private pool, counted memory, failing waits).</summary>
internal class CpuComputeDevice : ComputeDevice
{
    public override int Id => -1;

    public override string Name => "CPU";

    public override string ModelName => "CPU";

    public override Version? ComputeCapability => null;

    public override bool SharesHostMemory => true;

    public override DeviceBuffer AllocateDevice(long bytes, string purpose) => new HostBuffer(bytes);

    public override DeviceBuffer AllocateStaging(long bytes, string purpose) => new HostBuffer(bytes);

    public override DeviceStream CreateStream() => new HostStream();

    public override DeviceStream BorrowStream(IntPtr nativeStream) => new HostStream();

    public override DeviceEvent? CreateEvent(bool timing = false) => null;

    public override (long Free, long Total)? MemoryInfo() => null;

    public override void MakeCurrent() { }
}

internal sealed class CudaComputeDevice(CudaDevice device) : ComputeDevice
{
    public CudaDevice Cuda => device;

    public override int Id => device.Ordinal;

    public override string Name => $"GPU {device.Ordinal} ({device.Name})";

    public override string ModelName => device.Name;

    public override Version? ComputeCapability => device.ComputeCapability;

    public override bool SharesHostMemory => false;

    public override DeviceBuffer AllocateDevice(long bytes, string purpose) => new CudaDeviceBuffer(device.Allocate(bytes, purpose));

    public override DeviceBuffer AllocateStaging(long bytes, string purpose) => new CudaPinnedBuffer(device.AllocatePinned(bytes, purpose));

    public override DeviceStream CreateStream() => new CudaDeviceStream(device, device.CreateStream());

    public override DeviceStream BorrowStream(IntPtr nativeStream) => new CudaDeviceStream(device, CudaStream.Borrow(nativeStream, device.Context));

    public override DeviceEvent? CreateEvent(bool timing = false) => new CudaDeviceEvent(device.CreateEvent(timing));

    public override (long Free, long Total)? MemoryInfo() => device.GetMemoryInfo();

    public override void MakeCurrent() => device.MakeCurrent();
}
