namespace TrtMLNet;

/// <summary>
/// A CUDA driver call failed. <see cref="ErrorName"/> is the driver's own name for the error
/// (for example CUDA_ERROR_OUT_OF_MEMORY), so it can be searched for in NVIDIA's documentation.
/// </summary>
public sealed class CudaException : Exception
{
    public CudaException(CudaError error, string errorName, string message)
        : base(message)
    {
        Error = error;
        ErrorName = errorName;
    }

    public CudaError Error { get; }

    public string ErrorName { get; }
}
