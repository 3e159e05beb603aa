using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TrtMLNet.Native.TensorRt;

/// <summary>What a loaded shim says about itself.</summary>
/// <param name="AbiVersion">Its TRTS_ABI_VERSION, equal to <see cref="ShimLibrary.ExpectedAbiVersion"/> once loaded.</param>
/// <param name="CompiledTensorRt">The TensorRT headers it was built against (major.minor.patch).</param>
/// <param name="LoadedTensorRt">The libnvinfer the loader picked (major.minor.patch.build): plans and timing caches are tied to it.</param>
/// <param name="Capabilities">What the TensorRT major it was built for can do.</param>
internal sealed record ShimInfo(int AbiVersion, Version CompiledTensorRt, Version LoadedTensorRt, ShimCapabilities Capabilities)
{
    /// <summary>FP16/BF16 can be requested when building (TensorRT 10; 11 takes precision from the model).</summary>
    public bool SupportsPrecisionFlags => Capabilities.HasFlag(ShimCapabilities.WeakTyping);

    public override string ToString() =>
        $"trtmlnet_shim ABI {AbiVersion}, built for TensorRT {CompiledTensorRt}, running TensorRT {LoadedTensorRt}";
}

/// <summary>
/// Loads and checks the native shim once per process, and bridges TensorRT's log to .NET. Nothing
/// else in TrtMLNet calls the shim before <see cref="TryLoad"/> has succeeded: a shim of another ABI
/// would read and write the wrong memory, and a missing one should be a reason to fall back to the
/// next backend, not an exception from deep inside a pipeline.
/// </summary>
internal static class ShimLibrary
{
    /// <summary>The TRTS_ABI_VERSION this assembly's declarations were written for.</summary>
    public const int ExpectedAbiVersion = 1;

    private static readonly Lock s_lock = new();
    private static ShimInfo? s_info;
    private static ShimLogSeverity s_logLevel = ShimLogSeverity.Warning;

    /// <summary>
    /// TensorRT's log, from any thread TensorRT logs on (builder threads included). Handlers must be
    /// quick and must not call the shim; exceptions they throw are swallowed, because they cannot be
    /// allowed to unwind into native code.
    /// </summary>
    public static event Action<ShimLogSeverity, string>? Log;

    /// <summary>The least severe messages forwarded to <see cref="Log"/>; the filter runs in the shim, so dropped messages cost no transition.</summary>
    public static ShimLogSeverity LogLevel
    {
        get => s_logLevel;
        set
        {
            lock (s_lock)
            {
                s_logLevel = value;
                if (s_info is not null)
                    RegisterLogCallback(value);
            }
        }
    }

    /// <summary>The loaded shim (loading it if need be); throws with the reason when it cannot be used.</summary>
    public static ShimInfo Info
    {
        get
        {
            if (!TryLoad(out var reason))
                throw new InvalidOperationException($"The TensorRT shim is not available: {reason}");
            return s_info!;
        }
    }

    /// <summary>
    /// Loads the shim and checks its ABI, once; the result is kept only on success, so a later call
    /// (after <see cref="NativeLibraries.ShimPath"/> was set, say) tries again.
    /// </summary>
    public static bool TryLoad(out string? reason)
    {
        lock (s_lock)
        {
            if (s_info is not null)
            {
                reason = null;
                return true;
            }
            var info = Probe(out reason);
            if (info is null)
                return false;
            RegisterLogCallback(s_logLevel);
            s_info = info;
            return true;
        }
    }

    /// <summary>Loads and checks the shim without remembering the answer; <see cref="TryLoad"/> is the entry point.</summary>
    internal static ShimInfo? Probe(out string? reason)
    {
        int abi;
        try
        {
            abi = ShimNative.trts_abi_version();
        }
        catch (DllNotFoundException e)
        {
            reason = DescribeLoadFailure(e);
            return null;
        }
        catch (EntryPointNotFoundException)
        {
            reason = $"{ShimLocation()} loaded but has no trts_abi_version: it is not a TrtMLNet TensorRT shim.";
            return null;
        }
        catch (BadImageFormatException e)
        {
            reason = $"{ShimLocation()} is not a library for this process ({RuntimeInformation.ProcessArchitecture}): {e.Message}";
            return null;
        }

        if (abi != ExpectedAbiVersion)
        {
            reason = $"{ShimLocation()} has ABI version {abi}, but this TrtMLNet expects ABI version {ExpectedAbiVersion}: "
                + "rebuild the shim from the src/TrtMLNet.Shim of the same TrtMLNet version.";
            return null;
        }

        ShimNative.trts_compiled_version(out var cMajor, out var cMinor, out var cPatch);
        ShimNative.trts_loaded_version(out var lMajor, out var lMinor, out var lPatch, out var lBuild);
        reason = null;
        return new ShimInfo(
            abi,
            new Version(cMajor, cMinor, cPatch),
            new Version(lMajor, lMinor, lPatch, lBuild),
            ShimNative.trts_capabilities());
    }

    /// <summary>The shim's file name on this OS.</summary>
    public static string ShimFileName =>
        OperatingSystem.IsWindows() ? "trtmlnet_shim.dll"
        : OperatingSystem.IsMacOS() ? "libtrtmlnet_shim.dylib"
        : "libtrtmlnet_shim.so";

    private static string ShimLocation() =>
        NativeLibraries.ShimPath is { Length: > 0 } path ? $"The TensorRT shim {path}" : $"The TensorRT shim ({ShimFileName})";

    private static string DescribeLoadFailure(DllNotFoundException e)
    {
        var path = NativeLibraries.ShimPath;
        // The runtime's own message lists every probe; the loader's message for an explicit path says
        // whether the shim itself or a library it needs (libnvinfer) is missing.
        var loaderMessage = e.Message;
        if (!string.IsNullOrEmpty(path) && !NativeLibraries.TryProbe(path, out var failure) && failure is not null)
            loaderMessage = failure;
        var missingTensorRt = loaderMessage.Contains("nvinfer", StringComparison.OrdinalIgnoreCase)
            || loaderMessage.Contains("nvonnxparser", StringComparison.OrdinalIgnoreCase);
        var hint = missingTensorRt
            ? "The shim is there but TensorRT's libraries (libnvinfer, libnvonnxparser) are not: install the TensorRT "
              + "version the shim was built for and put its lib folder on "
              + (OperatingSystem.IsWindows() ? "PATH." : "LD_LIBRARY_PATH.")
            : $"Build it with 'cmake -S src/TrtMLNet.Shim -B build-native/shim -DTENSORRT_ROOT=<TensorRT folder>' and "
              + $"'cmake --build build-native/shim', then put {ShimFileName} beside the application or set "
              + $"{NativeLibraries.ShimPathVariable} to its full path.";
        return $"{ShimLocation()} could not be loaded ({loaderMessage}). {hint}";
    }

    private static unsafe void RegisterLogCallback(ShimLogSeverity level) =>
        ShimNative.trts_set_log_callback(&OnLog, IntPtr.Zero, level);

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static unsafe void OnLog(int severity, byte* message, IntPtr userData)
    {
        try
        {
            var handlers = Log;
            if (handlers is null)
                return;
            var text = Marshal.PtrToStringUTF8((IntPtr)message) ?? "";
            handlers((ShimLogSeverity)severity, text);
        }
        catch (Exception)
        {
            // An exception must not unwind into TensorRT's frames: the process would die. There is no one
            // to tell here; the handler that threw is the one that would have reported it.
        }
    }
}
