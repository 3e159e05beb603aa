using System.Runtime.InteropServices;
using TrtMLNet.Native.Cuda;

namespace TrtMLNet.Native.NvJpeg;

/// <summary>
/// Base of every nvJPEG object handle. Release makes the object's CUDA context current first (nvJPEG
/// frees device memory through the CUDA runtime, which acts on the current context, and release may run
/// on a finalizer or another thread). An object holds a reference on each object it was made from or
/// attached to, so those outlive it whatever order Dispose or the finalizer takes them in: a state is
/// destroyed before the decoder, buffers and library handle it uses.
/// </summary>
/// <param name="context">The CUDA context the object is made in.</param>
/// <param name="destroy">nvJPEG's function that frees this kind of object: the kinds differ only in it and in how they are made.</param>
internal abstract class NvJpegObject(IntPtr context, Func<IntPtr, NvJpegStatus> destroy) : SafeHandle(IntPtr.Zero, ownsHandle: true)
{
    private readonly List<SafeHandle> _dependencies = [];

    /// <summary>The CUDA context the object was made in.</summary>
    public IntPtr Context { get; } = context;

    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>The raw handle for nvJPEG calls; valid while this object is alive.</summary>
    public IntPtr Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsClosed, this);
            return handle;
        }
    }

    internal delegate NvJpegStatus Creator(out IntPtr raw);

    /// <summary>
    /// Fills <paramref name="wrapper"/> with what <paramref name="create"/> makes, after taking a reference on
    /// each dependency (so a dependency already disposed fails before anything native is made). On failure
    /// the references are given back and the exception names <paramref name="call"/> and the status.
    /// </summary>
    protected static T Create<T>(T wrapper, string call, Creator create, params SafeHandle[] dependencies)
        where T : NvJpegObject
    {
        try
        {
            foreach (var dependency in dependencies)
                wrapper.Depend(dependency);
            NvJpegCheck.ThrowIfFailed(create(out var raw), call);
            wrapper.SetHandle(raw);
            return wrapper;
        }
        catch
        {
            // The handle is still invalid, so ReleaseHandle will not run: give the references back here.
            wrapper.ReleaseDependencies();
            wrapper.Dispose();
            throw;
        }
    }

    /// <summary>Keeps <paramref name="other"/> alive until this object is destroyed (one reference however often it is asked).</summary>
    protected void Depend(SafeHandle other)
    {
        lock (_dependencies)
        {
            if (_dependencies.Contains(other))
                return;
            bool added = false;
            other.DangerousAddRef(ref added);
            _dependencies.Add(other);
        }
    }

    protected sealed override bool ReleaseHandle()
    {
        // Errors cannot be reported from here; at process exit the driver may already be gone, which is harmless.
        CudaDriverApi.cuCtxSetCurrent(Context);
        var status = destroy(handle);
        ReleaseDependencies();
        return status == NvJpegStatus.Success;
    }

    private void ReleaseDependencies()
    {
        lock (_dependencies)
        {
            foreach (var dependency in _dependencies)
                dependency.DangerousRelease();
            _dependencies.Clear();
        }
    }

    /// <summary><paramref name="value"/>, what a call that returned <paramref name="status"/> gave back; throws if it failed.</summary>
    protected static long Checked(NvJpegStatus status, long value, string call)
    {
        NvJpegCheck.ThrowIfFailed(status, call);
        return value;
    }
}
