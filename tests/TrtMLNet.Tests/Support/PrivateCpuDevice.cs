using TrtMLNet.Device;

namespace TrtMLNet.Tests.Support;

/// <summary>
/// The CPU as a device of its own: a pool that no other test shares, and a memory counter that plays
/// the driver's cuMemGetInfo (free = total - what this device allocated and has not freed).
/// </summary>
internal sealed class PrivateCpuDevice : CpuComputeDevice
{
    private const long Total = 1L << 40;
    private long _allocated;

    public override string Name => "private CPU";

    public override DeviceBuffer AllocateDevice(long bytes, string purpose) => new Counted(this, bytes);

    public override (long Free, long Total)? MemoryInfo() => (Total - Interlocked.Read(ref _allocated), Total);

    private sealed class Counted : DeviceBuffer
    {
        private readonly PrivateCpuDevice _device;
        private readonly HostBuffer _buffer;
        private int _disposed;

        public Counted(PrivateCpuDevice device, long bytes)
        {
            _device = device;
            _buffer = new HostBuffer(bytes);
            Interlocked.Add(ref device._allocated, bytes);
        }

        public override IntPtr Pointer => _buffer.Pointer;

        public override long Bytes => _buffer.Bytes;

        public override void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
                return;
            _buffer.Dispose();
            Interlocked.Add(ref _device._allocated, -Bytes);
        }
    }
}
