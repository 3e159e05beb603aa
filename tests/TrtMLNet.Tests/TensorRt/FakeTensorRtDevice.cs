using TrtMLNet.Backends.TensorRt;

namespace TrtMLNet.Tests.TensorRt;

/// <summary>
/// A GPU for tests against the fake shim, which never touches memory: it hands out distinct,
/// 256-byte aligned addresses that nothing dereferences, and records what was allocated and freed.
/// </summary>
internal sealed class FakeTensorRtDevice(string name = "NVIDIA Fake GPU 80GB", int ordinal = 0, Version? computeCapability = null) : ITensorRtDevice
{
    private long _next = 0x7f00_0000_0000;

    public int Ordinal { get; } = ordinal;

    public string Name { get; } = name;

    public Version ComputeCapability { get; } = computeCapability ?? new Version(9, 0);

    public int MakeCurrentCalls { get; private set; }

    public List<FakeAllocation> Allocations { get; } = [];

    public void MakeCurrent() => MakeCurrentCalls++;

    public IDeviceAllocation Allocate(long bytes, string purpose)
    {
        var allocation = new FakeAllocation((IntPtr)_next, bytes, purpose);
        _next += ((bytes + 255) & ~255L) + 0x10000;
        Allocations.Add(allocation);
        return allocation;
    }

    internal sealed class FakeAllocation(IntPtr pointer, long bytes, string purpose) : IDeviceAllocation
    {
        public IntPtr Pointer { get; } = pointer;

        public long Bytes { get; } = bytes;

        public string Purpose { get; } = purpose;

        public bool Disposed { get; private set; }

        public void Dispose() => Disposed = true;
    }
}
