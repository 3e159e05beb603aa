using System.Runtime.InteropServices;

namespace TrtMLNet.Native.TensorRt;

/// <summary>Turns the shim's statuses into <see cref="TensorRtException"/>.</summary>
internal static class ShimStatusCheck
{
    /// <summary>
    /// Throws for a failed status. Must run right after the call, on the same thread: the message lives
    /// in the shim's thread-local last error, which the next shim call on this thread clears.
    /// </summary>
    public static void ThrowIfFailed(TensorRtErrorCode status, string operation) => NativeStatus.ThrowIfFailed(status, operation, Failure);

    /// <summary>
    /// For hot paths (per-batch calls): build the operation text only when the call failed, as in
    /// <c>if (status != TensorRtErrorCode.Ok) throw ShimStatusCheck.Failure(status, $"...")</c>.
    /// </summary>
    public static TensorRtException Failure(TensorRtErrorCode status, string operation) =>
        new(status, operation, LastError());

    /// <summary>A count or size the shim answers; negative means it failed, with its reason in the last error.</summary>
    public static T NonNegative<T>(T value, string operation)
        where T : System.Numerics.INumber<T> =>
        T.IsNegative(value) ? throw Failure(TensorRtErrorCode.Internal, operation) : value;

    /// <summary>The shim's last error on this thread ("" when the last call succeeded).</summary>
    public static string LastError() => Marshal.PtrToStringUTF8(ShimNative.trts_last_error()) ?? "";
}
