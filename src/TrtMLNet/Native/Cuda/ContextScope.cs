namespace TrtMLNet.Native.Cuda;

/// <summary>
/// A CUDA context made current for a while: pushed on the calling thread's context stack, and popped when the
/// scope ends, so the thread is back in the context it was in. Lanes run ONNX Runtime in the primary context
/// of their thread; anything that visits another context (an image decoder's own, a release of its memory on a
/// lane's thread) goes through this. The default scope pops nothing.
/// </summary>
internal readonly struct ContextScope : IDisposable
{
    private readonly bool _pushed;

    private ContextScope(bool pushed) => _pushed = pushed;

    /// <summary>Pushes <paramref name="context"/>; throws <see cref="CudaException"/> when the driver refuses.</summary>
    public static ContextScope Push(IntPtr context, string what)
    {
        CudaCheck.ThrowIfFailed(CudaDriverApi.cuCtxPushCurrent(context), $"cuCtxPushCurrent({what})");
        return new ContextScope(pushed: true);
    }

    /// <summary>Pushes <paramref name="context"/> where errors cannot be reported (releases, finalizers); a refused push pops nothing.</summary>
    public static ContextScope TryPush(IntPtr context) => new(CudaDriverApi.cuCtxPushCurrent(context) == CudaError.Success);

    public void Dispose()
    {
        if (_pushed)
            CudaDriverApi.cuCtxPopCurrent(out _);
    }
}
