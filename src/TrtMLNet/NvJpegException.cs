namespace TrtMLNet;

/// <summary>
/// An nvJPEG call failed. <see cref="StatusName"/> is nvjpeg.h's name for the status (for example
/// NVJPEG_STATUS_BAD_JPEG), so it can be searched for in NVIDIA's documentation; the message says which
/// call, on which image where there is one, and what the status means.
/// </summary>
public sealed class NvJpegException : Exception
{
    public NvJpegException(NvJpegStatus status, string message)
        : base(message)
    {
        Status = status;
    }

    public NvJpegStatus Status { get; }

    public string StatusName => NameOf(Status);

    /// <summary>nvjpeg.h's name for a status; unknown values (a newer library's) keep their number.</summary>
    public static string NameOf(NvJpegStatus status) => status switch
    {
        NvJpegStatus.Success => "NVJPEG_STATUS_SUCCESS",
        NvJpegStatus.NotInitialized => "NVJPEG_STATUS_NOT_INITIALIZED",
        NvJpegStatus.InvalidParameter => "NVJPEG_STATUS_INVALID_PARAMETER",
        NvJpegStatus.BadJpeg => "NVJPEG_STATUS_BAD_JPEG",
        NvJpegStatus.JpegNotSupported => "NVJPEG_STATUS_JPEG_NOT_SUPPORTED",
        NvJpegStatus.AllocatorFailure => "NVJPEG_STATUS_ALLOCATOR_FAILURE",
        NvJpegStatus.ExecutionFailed => "NVJPEG_STATUS_EXECUTION_FAILED",
        NvJpegStatus.ArchMismatch => "NVJPEG_STATUS_ARCH_MISMATCH",
        NvJpegStatus.InternalError => "NVJPEG_STATUS_INTERNAL_ERROR",
        NvJpegStatus.ImplementationNotSupported => "NVJPEG_STATUS_IMPLEMENTATION_NOT_SUPPORTED",
        NvJpegStatus.IncompleteBitstream => "NVJPEG_STATUS_INCOMPLETE_BITSTREAM",
        _ => $"NVJPEG_STATUS_{(int)status}",
    };

    /// <summary>What the status means, after NVIDIA's nvJPEG documentation ("nvJPEG API Return Codes").</summary>
    public static string Describe(NvJpegStatus status) => status switch
    {
        NvJpegStatus.Success => "success",
        NvJpegStatus.NotInitialized => "the library handle was not initialized",
        NvJpegStatus.InvalidParameter => "a wrong parameter was passed",
        NvJpegStatus.BadJpeg => "the JPEG stream cannot be parsed: the data is damaged or not a JPEG",
        NvJpegStatus.JpegNotSupported => "a JPEG that nvJPEG does not support",
        NvJpegStatus.AllocatorFailure => "allocating device or pinned memory failed",
        NvJpegStatus.ExecutionFailed => "the device tasks failed (or no usable GPU)",
        NvJpegStatus.ArchMismatch => "the GPU lacks what these parameters need (e.g. the hardware JPEG decoder)",
        NvJpegStatus.InternalError => "an internal error in nvJPEG",
        NvJpegStatus.ImplementationNotSupported => "not supported by this implementation",
        NvJpegStatus.IncompleteBitstream => "the JPEG data ends too early",
        _ => "a status this version of TrtMLNet does not know",
    };
}
