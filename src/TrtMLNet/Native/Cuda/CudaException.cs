using System.Runtime.InteropServices;

namespace TrtMLNet.Native.Cuda;

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

    internal static void ThrowIfFailed(CudaError result, string call)
    {
        if (result != CudaError.Success)
            throw Create(result, call);
    }

    internal static CudaException Create(CudaError result, string call)
    {
        var (name, text) = Describe(result);
        return new CudaException(result, name, $"{call} failed: {name} ({text})");
    }

    internal static (string Name, string Text) Describe(CudaError result)
    {
        string? name = null, text = null;
        try
        {
            if (CudaDriverApi.cuGetErrorName(result, out var namePtr) == CudaError.Success)
                name = Marshal.PtrToStringUTF8(namePtr);
            if (CudaDriverApi.cuGetErrorString(result, out var textPtr) == CudaError.Success)
                text = Marshal.PtrToStringUTF8(textPtr);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // The description is a courtesy; the code alone still identifies the error.
        }
        return (name ?? $"CUDA_ERROR_{(int)result}", text ?? "no description");
    }
}
