using System.Runtime.InteropServices;

namespace TrtMLNet.Native.TensorRt;

/// <summary>
/// Base of the shim's handles: zero is invalid, and each kind releases through its own trts_*_release.
/// The P/Invoke marshaller makes them through their parameterless constructors.
/// </summary>
internal abstract class ShimHandle() : SafeHandle(IntPtr.Zero, ownsHandle: true)
{
    public override bool IsInvalid => handle == IntPtr.Zero;
}
