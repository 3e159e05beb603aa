using TrtMLNet.Native.Cuda;

namespace TrtMLNet.Backends.TensorRt;

/// <summary>
/// The GPU a TensorRT engine lives on, as the TensorRT backend needs it: its identity (which goes into
/// the engine cache key, because a plan only loads on the GPU model it was built for), its context,
/// and device memory for the buffers a context owns. An interface so that the backend's logic (IO
/// mapping, the call sequence of an execution, cache keys) runs against the fake shim on machines
/// without a GPU.
/// </summary>
internal interface ITensorRtDevice
{
    /// <summary>CUDA ordinal.</summary>
    int Ordinal { get; }

    /// <summary>The name CUDA reports, e.g. "NVIDIA H100 80GB HBM3".</summary>
    string Name { get; }

    Version ComputeCapability { get; }

    /// <summary>
    /// Makes the device's primary context current on the calling thread. The shim binds a runtime to
    /// the context current when it is created, and TensorRT's builder works in the current context.
    /// </summary>
    void MakeCurrent();

    /// <summary>Device memory, 256-byte aligned at least (as TensorRT wants tensor addresses).</summary>
    IDeviceAllocation Allocate(long bytes, string purpose);
}

/// <summary>A block of device memory owned by whoever allocated it.</summary>
internal interface IDeviceAllocation : IDisposable
{
    IntPtr Pointer { get; }

    long Bytes { get; }
}

/// <summary>A real GPU through the CUDA driver layer.</summary>
internal sealed class CudaTensorRtDevice(CudaDevice device) : ITensorRtDevice
{
    /// <summary>The device with this ordinal, with its primary context made current on this thread.</summary>
    public static CudaTensorRtDevice Open(int ordinal)
    {
        var device = new CudaTensorRtDevice(CudaDriver.GetDevice(ordinal));
        device.MakeCurrent();
        return device;
    }

    public int Ordinal => device.Ordinal;

    public string Name => device.Name;

    public Version ComputeCapability => device.ComputeCapability;

    public void MakeCurrent() => device.MakeCurrent();

    // cuMemAlloc aligns to at least 256 bytes, which is what TensorRT asks of tensor addresses.
    public IDeviceAllocation Allocate(long bytes, string purpose) => new Allocation(device.Allocate(bytes, purpose));

    public override string ToString() => $"GPU {Ordinal} ({Name})";

    private sealed class Allocation(CudaDeviceMemory memory) : IDeviceAllocation
    {
        public IntPtr Pointer => memory.Pointer;

        public long Bytes => memory.Bytes;

        public void Dispose() => memory.Dispose();
    }
}
