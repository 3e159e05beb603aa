namespace TrtMLNet;

/// <summary>
/// Why a TensorRT operation failed: the native shim's status codes themselves (trts_status_code in
/// trtmlnet_shim.h), so the code a user sees is the one the shim returned.
/// </summary>
public enum TensorRtErrorCode
{
    /// <summary>Success; never carried by a <see cref="TensorRtException"/>.</summary>
    Ok = 0,

    /// <summary>A bad argument: an unknown tensor name, a rank TensorRT cannot take, a profile that does not exist.</summary>
    InvalidArgument = 1,

    /// <summary>TensorRT refused; <see cref="TensorRtException.NativeMessage"/> holds what it logged.</summary>
    TensorRt = 2,

    /// <summary>A CUDA driver call inside the shim failed (no current context, a stream error, ...).</summary>
    Cuda = 3,

    /// <summary>Device or host memory ran out.</summary>
    OutOfMemory = 4,

    /// <summary>Not possible with the TensorRT major the shim was built for (FP16 flags on strongly typed TensorRT 11, ...).</summary>
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
        // A status the shim may add later reads as Internal: the ABI check should have caught it.
        ErrorCode = Enum.IsDefined(errorCode) && errorCode != TensorRtErrorCode.Ok ? errorCode : TensorRtErrorCode.Internal;
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
