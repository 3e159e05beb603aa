namespace TrtMLNet.Device;

/// <summary>Bytes held on the device and in pinned host memory.</summary>
internal readonly record struct HeldMemory(long DeviceBytes, long PinnedHostBytes)
{
    public static HeldMemory operator +(HeldMemory a, HeldMemory b) => new(a.DeviceBytes + b.DeviceBytes, a.PinnedHostBytes + b.PinnedHostBytes);
}

/// <summary>
/// Something attached to an engine (the image decoders) that holds memory outside the pool's own accounts, so
/// that the memory report can count it.
/// </summary>
internal interface IHoldsMemory
{
    HeldMemory Held { get; }
}
