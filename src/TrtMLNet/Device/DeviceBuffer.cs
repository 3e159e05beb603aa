using System.Runtime.InteropServices;
using TrtMLNet.Native.Cuda;

namespace TrtMLNet.Device;

/// <summary>A block of memory a device made: host, pinned host or device memory, depending on the device and the purpose.</summary>
internal abstract class DeviceBuffer : IDisposable
{
    public abstract IntPtr Pointer { get; }

    public abstract long Bytes { get; }

    public abstract void Dispose();
}

/// <summary>
/// Host memory aligned for SIMD and for the 256-byte tensor alignment TensorRT and ONNX Runtime
/// expect; used as staging and IO buffers when a model runs on the CPU.
/// </summary>
internal sealed unsafe class HostBuffer : DeviceBuffer
{
    public const int Alignment = 256;
    private IntPtr _pointer;

    public HostBuffer(long bytes)
    {
        Bytes = bytes;
        _pointer = (IntPtr)NativeMemory.AlignedAlloc((nuint)Math.Max(bytes, 1), Alignment);
        GC.AddMemoryPressure(Math.Max(bytes, 1));
    }

    public override IntPtr Pointer => _pointer;

    public override long Bytes { get; }

    public override void Dispose()
    {
        var pointer = Interlocked.Exchange(ref _pointer, IntPtr.Zero);
        if (pointer == IntPtr.Zero)
            return;
        NativeMemory.AlignedFree((void*)pointer);
        GC.RemoveMemoryPressure(Math.Max(Bytes, 1));
        GC.SuppressFinalize(this);
    }

    ~HostBuffer() => Dispose();
}

internal sealed class CudaDeviceBuffer(CudaDeviceMemory memory) : DeviceBuffer
{
    public override IntPtr Pointer => memory.Pointer;

    public override long Bytes => memory.Bytes;

    public override void Dispose() => memory.Dispose();
}

internal sealed class CudaPinnedBuffer(CudaPinnedMemory memory) : DeviceBuffer
{
    public override IntPtr Pointer => memory.Pointer;

    public override long Bytes => memory.Bytes;

    public override void Dispose() => memory.Dispose();
}
