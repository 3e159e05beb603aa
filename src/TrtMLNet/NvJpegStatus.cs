namespace TrtMLNet;

/// <summary>nvjpegStatus_t, as nvjpeg.h numbers it (the same from CUDA 11.x to 13.x).</summary>
public enum NvJpegStatus
{
    Success = 0,
    NotInitialized = 1,
    InvalidParameter = 2,
    BadJpeg = 3,
    JpegNotSupported = 4,
    AllocatorFailure = 5,
    ExecutionFailed = 6,
    ArchMismatch = 7,
    InternalError = 8,
    ImplementationNotSupported = 9,
    IncompleteBitstream = 10,
}
