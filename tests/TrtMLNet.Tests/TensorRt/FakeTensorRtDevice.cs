using TrtMLNet.Device;

namespace TrtMLNet.Tests.TensorRt;

/// <summary>
/// A GPU for tests against the fake shim whose engines never touch memory: it hands out distinct,
/// 256-byte aligned addresses that nothing dereferences, and records what was allocated and freed.
/// Its streams are plain handles the fake shim records; work on them runs nowhere.
/// </summary>
internal sealed class FakeTensorRtDevice(string name = "NVIDIA Fake GPU 80GB", int ordinal = 0, Version? computeCapability = null) : ComputeDevice
{
    private long _next = 0x7f00_0000_0000;

    public override int Id { get; } = ordinal;

    public override string Name => $"GPU {Id} ({ModelName})";

    public override string ModelName { get; } = name;

    public override Version? ComputeCapability { get; } = computeCapability ?? new Version(9, 0);

    public override bool SharesHostMemory => false;

    public int MakeCurrentCalls { get; private set; }

    public List<FakeAllocation> Allocations { get; } = [];

    public override void MakeCurrent() => MakeCurrentCalls++;

    public override DeviceBuffer AllocateDevice(long bytes, string purpose)
    {
        var allocation = new FakeAllocation((IntPtr)_next, bytes, purpose);
        _next += ((bytes + 255) & ~255L) + 0x10000;
        Allocations.Add(allocation);
        return allocation;
    }

    public override DeviceBuffer AllocateStaging(long bytes, string purpose) => AllocateDevice(bytes, purpose);

    public override DeviceStream CreateStream() => new HandleStream(0x5000);

    public override DeviceStream BorrowStream(IntPtr nativeStream) => new HandleStream(nativeStream);

    public override DeviceEvent? CreateEvent(bool timing = false) => null;

    public override (long Free, long Total)? MemoryInfo() => null;

    internal sealed class FakeAllocation(IntPtr pointer, long bytes, string purpose) : DeviceBuffer
    {
        public override IntPtr Pointer { get; } = pointer;

        public override long Bytes { get; } = bytes;

        public string Purpose { get; } = purpose;

        public bool Disposed { get; private set; }

        public override void Dispose() => Disposed = true;
    }
}

/// <summary>A stream that is only a handle for the fake shim to record; nothing runs on it.</summary>
internal sealed class HandleStream(IntPtr handle) : DeviceStream
{
    public override IntPtr Handle => handle;

    public override void CopyToDevice(IntPtr destination, IntPtr source, long bytes) { }

    public override void CopyToHost(IntPtr destination, IntPtr source, long bytes) { }

    public override void Synchronize() { }

    public override StreamTimer CreateTimer(int marks) => new HostTimer(marks);

    public override void Dispose() { }
}
