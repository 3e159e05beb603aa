using System.Runtime.InteropServices;

namespace TrtMLNet.Native.TensorRt;

/// <summary>
/// The shim's C ABI (src/TrtMLNet.Shim/include/trtmlnet_shim.h), one declaration per function. Call
/// through the handle classes, which turn statuses into <see cref="TensorRtException"/>; a failing
/// call's message must be read with trts_last_error on the same thread before any other shim call.
/// Handles cross as SafeHandles so that a release can never race a call in flight.
/// </summary>
internal static unsafe partial class ShimNative
{
    // The resolver must be in place before the first P/Invoke binds the library name.
    static ShimNative() => NativeLibraries.EnsureRegistered();

    private const string Lib = NativeLibraries.TensorRtShim;

    // ---- library ----

    [LibraryImport(Lib)] internal static partial int trts_abi_version();
    [LibraryImport(Lib)] internal static partial void trts_compiled_version(out int major, out int minor, out int patch);
    [LibraryImport(Lib)] internal static partial void trts_loaded_version(out int major, out int minor, out int patch, out int build);
    [LibraryImport(Lib)] internal static partial ShimCapabilities trts_capabilities();

    /// <summary>UTF-8, owned by the shim (thread-local): read it, never free it.</summary>
    [LibraryImport(Lib)] internal static partial IntPtr trts_last_error();

    [LibraryImport(Lib)]
    internal static partial void trts_set_log_callback(
        delegate* unmanaged[Cdecl]<int, byte*, IntPtr, void> callback, IntPtr userData, ShimLogSeverity minSeverity);

    // ---- runtime ----

    [LibraryImport(Lib)] internal static partial TensorRtErrorCode trts_runtime_create(out ShimRuntimeHandle runtime);
    [LibraryImport(Lib)] internal static partial void trts_runtime_release(IntPtr runtime);
    [LibraryImport(Lib)] internal static partial long trts_runtime_allocated_bytes(ShimRuntimeHandle runtime);

    // ---- engine ----

    [LibraryImport(Lib)]
    internal static partial TensorRtErrorCode trts_engine_deserialize(ShimRuntimeHandle runtime, byte* plan, nuint size, out ShimEngineHandle engine);

    [LibraryImport(Lib)] internal static partial void trts_engine_release(IntPtr engine);
    [LibraryImport(Lib)] internal static partial int trts_engine_io_count(ShimEngineHandle engine);
    [LibraryImport(Lib)] internal static partial TensorRtErrorCode trts_engine_io_tensor(ShimEngineHandle engine, int index, out ShimTensorDesc desc);
    [LibraryImport(Lib)] internal static partial int trts_engine_profile_count(ShimEngineHandle engine);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial TensorRtErrorCode trts_engine_profile_shape(
        ShimEngineHandle engine, string tensorName, int profile, ShimProfileSelector selector, out ShimDims dims);

    [LibraryImport(Lib)] internal static partial TensorRtErrorCode trts_engine_scratch_size(ShimEngineHandle engine, int profile, out long bytes);
    [LibraryImport(Lib)] internal static partial TensorRtErrorCode trts_engine_weights_size(ShimEngineHandle engine, out long stated, out long measured);

    // ---- execution context ----

    [LibraryImport(Lib)]
    internal static partial TensorRtErrorCode trts_context_create(
        ShimEngineHandle engine, int profile, IntPtr stream, out ShimContextHandle context, out long persistentBytes);

    [LibraryImport(Lib)] internal static partial void trts_context_release(IntPtr context);
    [LibraryImport(Lib)] internal static partial TensorRtErrorCode trts_context_set_scratch(ShimContextHandle context, IntPtr memory, long size);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial TensorRtErrorCode trts_context_set_input_shape(ShimContextHandle context, string tensorName, in ShimDims dims);

    [LibraryImport(Lib)] internal static partial TensorRtErrorCode trts_context_scratch_size_for_shapes(ShimContextHandle context, out long bytes);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial TensorRtErrorCode trts_context_tensor_shape(ShimContextHandle context, string tensorName, out ShimDims dims);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial TensorRtErrorCode trts_context_set_tensor_address(ShimContextHandle context, string tensorName, IntPtr address);

    [LibraryImport(Lib)] internal static partial TensorRtErrorCode trts_context_enqueue(ShimContextHandle context, IntPtr stream);

    // ---- builder ----

    /// <summary>Raw out pointers: timing_cache_out is optional (null = not wanted), which an out SafeHandle cannot say.</summary>
    [LibraryImport(Lib)]
    internal static partial TensorRtErrorCode trts_build_engine(
        byte* onnx, nuint onnxSize, byte* modelPath, in ShimBuildOptions options, IntPtr* planOut, IntPtr* timingCacheOut);

    [LibraryImport(Lib)] internal static partial IntPtr trts_host_memory_data(ShimHostMemoryHandle memory);
    [LibraryImport(Lib)] internal static partial nuint trts_host_memory_size(ShimHostMemoryHandle memory);
    [LibraryImport(Lib)] internal static partial void trts_host_memory_release(IntPtr memory);
}
