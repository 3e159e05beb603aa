using System.Runtime.InteropServices;
using System.Runtime.InteropServices.Marshalling;
using TrtMLNet.Native;
using TrtMLNet.Native.TensorRt;

namespace TrtMLNet.Tests.TensorRt;

/// <summary>
/// The fake shim's test controls (trts_fake_*), reached through the same loaded library the P/Invoke
/// layer uses under the name trtmlnet_shim, so both see one global state.
/// </summary>
internal static unsafe class FakeShim
{
    private static readonly Lazy<Controls?> s_controls = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);
    private static string? s_missingReason;

    public static string FileName =>
        OperatingSystem.IsWindows() ? "trtmlnet_shim_fake.dll"
        : OperatingSystem.IsMacOS() ? "libtrtmlnet_shim_fake.dylib"
        : "libtrtmlnet_shim_fake.so";

    /// <summary>Makes the fake the process's shim and resets it; skips the test, saying why, when it was not built.</summary>
    public static void Require()
    {
        // The shim binds once per process: where the real TensorRT is tested, the fake must stay out.
        if (RealTensorRt.Available)
            Assert.Skip($"This run tests the real TensorRT shim, which cannot share a process with the fake; set {RealTensorRt.ForceFakeVariable}=1 to run the fake-shim tests instead.");
        if (s_controls.Value is null)
            Assert.Skip(s_missingReason ?? "the fake TensorRT shim is not available");
        s_controls.Value.Reset();
    }

    public static string[] Calls() =>
        (Marshal.PtrToStringUTF8((IntPtr)Get().CallsText()) ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public static void FailNext(string function, TensorRtErrorCode status, string message)
    {
        var functionUtf8 = Utf8StringMarshaller.ConvertToUnmanaged(function);
        var messageUtf8 = Utf8StringMarshaller.ConvertToUnmanaged(message);
        try
        {
            Get().FailNext(functionUtf8, (int)status, messageUtf8);
        }
        finally
        {
            Utf8StringMarshaller.Free(functionUtf8);
            Utf8StringMarshaller.Free(messageUtf8);
        }
    }

    public static void EmitLog(ShimLogSeverity severity, string message)
    {
        var messageUtf8 = Utf8StringMarshaller.ConvertToUnmanaged(message);
        try
        {
            Get().EmitLog((int)severity, messageUtf8);
        }
        finally
        {
            Utf8StringMarshaller.Free(messageUtf8);
        }
    }

    public static void SetVersions(int abi, int compiledMajor, int compiledMinor, int compiledPatch,
        int loadedMajor, int loadedMinor, int loadedPatch, int loadedBuild) =>
        Get().SetVersions(abi, compiledMajor, compiledMinor, compiledPatch, loadedMajor, loadedMinor, loadedPatch, loadedBuild);

    /// <summary>Executions on the fake device that found their scratch overwritten by another execution.</summary>
    public static long ScratchViolations() => Get().ScratchViolations();

    /// <summary>How long each execution on the fake device holds its scratch.</summary>
    public static void SetWorkMicros(long micros) => Get().SetWorkMicros(micros);

    /// <summary>The fake device's streams and events (fake_device.cpp).</summary>
    public static FakeDeviceCalls Device => Get().Device;

    private static Controls Get() => s_controls.Value ?? throw new InvalidOperationException("call FakeShim.Require() first");

    private static Controls? Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, FileName);
        if (!File.Exists(path))
        {
            s_missingReason = $"The fake TensorRT shim {FileName} is not in {AppContext.BaseDirectory}: FakeShim.targets builds it "
                + "when cmake and a C++17 compiler are on PATH (see build warning TRTMLNET_FAKESHIM).";
            return null;
        }
        NativeLibraries.ShimPath = path;
        if (!ShimLibrary.TryLoad(out var reason))
            throw new InvalidOperationException($"The fake shim exists but does not load as the TensorRT shim: {reason}");
        var library = NativeLibrary.Load(path);
        return new Controls
        {
            CallsText = (delegate* unmanaged[Cdecl]<byte*>)NativeLibrary.GetExport(library, "trts_fake_calls"),
            Reset = (delegate* unmanaged[Cdecl]<void>)NativeLibrary.GetExport(library, "trts_fake_reset"),
            FailNext = (delegate* unmanaged[Cdecl]<byte*, int, byte*, void>)NativeLibrary.GetExport(library, "trts_fake_fail_next"),
            EmitLog = (delegate* unmanaged[Cdecl]<int, byte*, void>)NativeLibrary.GetExport(library, "trts_fake_emit_log"),
            SetVersions = (delegate* unmanaged[Cdecl]<int, int, int, int, int, int, int, int, void>)NativeLibrary.GetExport(
                library, "trts_fake_set_versions"),
            ScratchViolations = (delegate* unmanaged[Cdecl]<long>)NativeLibrary.GetExport(library, "trts_fake_scratch_violations"),
            SetWorkMicros = (delegate* unmanaged[Cdecl]<long, void>)NativeLibrary.GetExport(library, "trts_fake_set_work_micros"),
            Device = FakeDeviceCalls.From(library),
        };
    }

    private sealed class Controls
    {
        public required delegate* unmanaged[Cdecl]<byte*> CallsText { get; init; }
        public required delegate* unmanaged[Cdecl]<void> Reset { get; init; }
        public required delegate* unmanaged[Cdecl]<byte*, int, byte*, void> FailNext { get; init; }
        public required delegate* unmanaged[Cdecl]<int, byte*, void> EmitLog { get; init; }
        public required delegate* unmanaged[Cdecl]<int, int, int, int, int, int, int, int, void> SetVersions { get; init; }
        public required delegate* unmanaged[Cdecl]<long> ScratchViolations { get; init; }
        public required delegate* unmanaged[Cdecl]<long, void> SetWorkMicros { get; init; }
        public required FakeDeviceCalls Device { get; init; }
    }
}
