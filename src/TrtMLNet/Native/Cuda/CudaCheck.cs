using System.Runtime.InteropServices;

namespace TrtMLNet.Native.Cuda;

/// <summary>Turns CUresult values into <see cref="CudaException"/>, with the driver's own name and text for the error.</summary>
internal static class CudaCheck
{
    internal static void ThrowIfFailed(CudaError result, string call) => NativeStatus.ThrowIfFailed(result, call, Failure);

    internal static CudaException Failure(CudaError result, string call)
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
