using System.Runtime.InteropServices;

namespace TrtMLNet.Native.TensorRt;

/// <summary>Why a TensorRT operation failed, as the native shim classified it.</summary>
public enum TensorRtErrorCode
{
    /// <summary>A bad argument: an unknown tensor name, a rank TensorRT cannot take, a profile that does not exist.</summary>
    InvalidArgument = 1,

    /// <summary>TensorRT refused; <see cref="TensorRtException.NativeMessage"/> holds what it logged.</summary>
    TensorRt = 2,

    /// <summary>A CUDA driver call inside the shim failed (no current context, a stream error, ...).</summary>
    Cuda = 3,

    /// <summary>Device or host memory ran out.</summary>
    OutOfMemory = 4,

    /// <summary>Not possible with the TensorRT major the shim was built for (FP16 on strongly typed TensorRT 11, ...).</summary>
    Unsupported = 5,

    /// <summary>The ONNX parser rejected the model; the message lists each of its errors.</summary>
    Parser = 6,

    /// <summary>A bug in the shim or a mismatch between it and this assembly.</summary>
    Internal = 7,
}

/// <summary>
/// A TensorRT operation failed. <see cref="NativeMessage"/> carries TensorRT's own words (the errors it
/// logged during the call), because they are what users search for and what NVIDIA's forums quote;
/// <see cref="Exception.Message"/> adds what TrtMLNet was doing, naming the tensor or profile.
/// </summary>
public sealed class TensorRtException : Exception
{
    public TensorRtException(TensorRtErrorCode errorCode, string operation, string nativeMessage)
        : base(Compose(errorCode, operation, nativeMessage))
    {
        ErrorCode = errorCode;
        Operation = operation;
        NativeMessage = nativeMessage;
    }

    public TensorRtErrorCode ErrorCode { get; }

    /// <summary>What TrtMLNet was doing, e.g. "Setting the shape of input 'input_ids' to [2,128]".</summary>
    public string Operation { get; }

    /// <summary>The shim's message for the failed call, TensorRT's log lines included; may be empty.</summary>
    public string NativeMessage { get; }

    private static string Compose(TensorRtErrorCode errorCode, string operation, string nativeMessage) =>
        string.IsNullOrEmpty(nativeMessage)
            ? $"{operation} failed ({errorCode}); the TensorRT shim gave no message."
            : $"{operation} failed ({errorCode}): {nativeMessage}";
}

/// <summary>Turns shim statuses into <see cref="TensorRtException"/>.</summary>
internal static class ShimStatusCheck
{
    /// <summary>
    /// Throws for a failed status. Must run right after the call, on the same thread: the message lives
    /// in the shim's thread-local last error, which the next shim call on this thread clears.
    /// </summary>
    public static void ThrowIfFailed(ShimStatus status, string operation)
    {
        if (status != ShimStatus.Ok)
            throw Failure(status, operation);
    }

    /// <summary>
    /// For hot paths (per-batch calls): build the operation text only when the call failed, as in
    /// <c>if (status != ShimStatus.Ok) throw ShimStatusCheck.Failure(status, $"...")</c>.
    /// </summary>
    public static TensorRtException Failure(ShimStatus status, string operation) =>
        new(ToErrorCode(status), operation, LastError());

    /// <summary>The shim's last error on this thread ("" when the last call succeeded).</summary>
    public static string LastError() => Marshal.PtrToStringUTF8(TensorRtShimNative.trts_last_error()) ?? "";

    private static TensorRtErrorCode ToErrorCode(ShimStatus status) => status switch
    {
        ShimStatus.InvalidArgument => TensorRtErrorCode.InvalidArgument,
        ShimStatus.TensorRt => TensorRtErrorCode.TensorRt,
        ShimStatus.Cuda => TensorRtErrorCode.Cuda,
        ShimStatus.OutOfMemory => TensorRtErrorCode.OutOfMemory,
        ShimStatus.Unsupported => TensorRtErrorCode.Unsupported,
        ShimStatus.Parser => TensorRtErrorCode.Parser,
        // Internal, and any status a newer shim might invent: the ABI check should have caught the latter.
        _ => TensorRtErrorCode.Internal,
    };
}
