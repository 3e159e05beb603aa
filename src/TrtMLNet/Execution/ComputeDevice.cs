using TrtMLNet.Native.Cuda;

namespace TrtMLNet.Execution;

/// <summary>
/// Where models run: the CPU or one CUDA device. It makes the memory, streams and fences the
/// execution layer needs, so lanes and the scratch arena are written once for both.
/// </summary>
internal abstract class ComputeDevice
{
    public static ComputeDevice Cpu { get; } = new CpuComputeDevice();

    private static readonly Lock s_gpuLock = new();
    private static readonly Dictionary<int, CudaComputeDevice> s_gpus = [];

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

    public abstract string Name { get; }

    /// <summary>True when device memory is host memory, so staging buffers can serve as IO buffers directly.</summary>
    public abstract bool SharesHostMemory { get; }

    public abstract NativeBuffer AllocateDevice(long bytes, string purpose);

    /// <summary>Host memory that device copies can overlap with (pinned on a GPU).</summary>
    public abstract NativeBuffer AllocateStaging(long bytes, string purpose);

    public abstract ExecutionStream CreateStream();

    public abstract Fence CreateFence();

    /// <summary>Free and total device memory as the driver reports it; null on the CPU.</summary>
    public abstract (long Free, long Total)? MemoryInfo();

    /// <summary>Makes this device's context current on the calling thread (a no-op on the CPU).</summary>
    public abstract void MakeCurrent();

    public override string ToString() => Name;
}

internal sealed class CpuComputeDevice : ComputeDevice
{
    public override int Id => -1;

    public override string Name => "CPU";

    public override bool SharesHostMemory => true;

    public override NativeBuffer AllocateDevice(long bytes, string purpose) => new HostBuffer(bytes);

    public override NativeBuffer AllocateStaging(long bytes, string purpose) => new HostBuffer(bytes);

    public override ExecutionStream CreateStream() => new HostStream();

    public override Fence CreateFence() => new(null);

    public override (long Free, long Total)? MemoryInfo() => null;

    public override void MakeCurrent() { }
}

internal sealed class CudaComputeDevice(CudaDevice device) : ComputeDevice
{
    public CudaDevice Cuda => device;

    public override int Id => device.Ordinal;

    public override string Name => $"GPU {device.Ordinal} ({device.Name})";

    public override bool SharesHostMemory => false;

    public override NativeBuffer AllocateDevice(long bytes, string purpose) => new CudaDeviceBuffer(device.Allocate(bytes, purpose));

    public override NativeBuffer AllocateStaging(long bytes, string purpose) => new CudaPinnedBuffer(device.AllocatePinned(bytes, purpose));

    public override ExecutionStream CreateStream() => new CudaExecutionStream(device);

    public override Fence CreateFence() => new(device.CreateEvent());

    public override (long Free, long Total)? MemoryInfo() => device.GetMemoryInfo();

    public override void MakeCurrent() => device.MakeCurrent();
}
