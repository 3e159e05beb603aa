using System.Runtime.InteropServices;
using System.Runtime.InteropServices.Marshalling;

namespace TrtMLNet.Native.TensorRt;

/// <summary>One input's range in an optimization profile; every dynamic input needs one in every profile.</summary>
internal sealed record TensorRtInputRange(string InputName, long[] Min, long[] Opt, long[] Max);

/// <summary>An optimization profile: the ranges of the inputs one context will see.</summary>
internal sealed record TensorRtOptimizationProfile(IReadOnlyList<TensorRtInputRange> Inputs);

/// <summary>
/// The build options the shim takes (trts_build_options), in shim terms. Defaults leave every choice
/// to TensorRT, so an options object that says nothing builds what trtexec would.
/// </summary>
internal sealed record TensorRtBuildSettings
{
    /// <summary>FP16/BF16 only on TensorRT 10; TensorRT 11 refuses them (precision comes from the model).</summary>
    public ShimPrecision Precision { get; init; } = ShimPrecision.Fp32;

    /// <summary>False clears kTF32, for FP32 results that match a CPU reference more closely.</summary>
    public bool AllowTf32 { get; init; } = true;

    /// <summary>0..5, or -1 for TensorRT's default (3).</summary>
    public int OptimizationLevel { get; init; } = -1;

    /// <summary>The kWORKSPACE pool limit in bytes; 0 leaves TensorRT's default (all device memory).</summary>
    public long WorkspaceBytes { get; init; }

    public ShimTacticSources EnableTactics { get; init; }

    public ShimTacticSources DisableTactics { get; init; }

    /// <summary>-1 for TensorRT's heuristic; 0 keeps one stream and the least memory.</summary>
    public int MaxAuxStreams { get; init; } = -1;

    public IReadOnlyList<TensorRtOptimizationProfile> Profiles { get; init; } = [];

    /// <summary>A serialized timing cache to start from (empty: none). It must come from the same TensorRT version.</summary>
    public ReadOnlyMemory<byte> TimingCache { get; init; }
}

/// <summary>A build's outputs: the plan, and the timing cache after the build when it was asked for.</summary>
internal sealed record TensorRtBuildResult(TensorRtHostMemoryHandle Plan, TensorRtHostMemoryHandle? TimingCache) : IDisposable
{
    public void Dispose()
    {
        Plan.Dispose();
        TimingCache?.Dispose();
    }
}

/// <summary>Builds engines from ONNX bytes through the shim (trts_build_engine).</summary>
internal static class TensorRtEngineBuilder
{
    /// <summary>
    /// Parses the model and builds a serialized plan: slow (seconds to many minutes), and the plan is
    /// tied to this TensorRT version and GPU, which is why callers cache it on disk.
    /// </summary>
    /// <param name="onnx">The model's bytes.</param>
    /// <param name="modelPath">Where the model lives, so the parser finds external weights beside it; null when the bytes are all there is.</param>
    /// <param name="settings">Build options.</param>
    /// <param name="returnTimingCache">Whether to hand back the timing cache, to seed the next build.</param>
    public static unsafe TensorRtBuildResult Build(
        ReadOnlySpan<byte> onnx, string? modelPath, TensorRtBuildSettings settings, bool returnTimingCache)
    {
        ArgumentNullException.ThrowIfNull(settings);
        using var native = new NativeProfiles(settings.Profiles);
        var modelPathUtf8 = modelPath is null ? null : Utf8StringMarshaller.ConvertToUnmanaged(modelPath);
        try
        {
            fixed (byte* model = onnx)
            fixed (byte* cache = settings.TimingCache.Span)
            {
                var options = new TrtBuildOptions
                {
                    StructSize = sizeof(TrtBuildOptions),
                    Precision = settings.Precision,
                    AllowTf32 = settings.AllowTf32 ? 1 : 0,
                    OptimizationLevel = settings.OptimizationLevel,
                    WorkspaceBytes = settings.WorkspaceBytes,
                    TacticsEnable = settings.EnableTactics,
                    TacticsDisable = settings.DisableTactics,
                    MaxAuxStreams = settings.MaxAuxStreams,
                    ProfileCount = native.Count,
                    Profiles = native.Pointer,
                    TimingCache = settings.TimingCache.IsEmpty ? IntPtr.Zero : (IntPtr)cache,
                    TimingCacheSize = (nuint)settings.TimingCache.Length,
                };
                IntPtr plan = IntPtr.Zero, timingCache = IntPtr.Zero;
                var status = TensorRtShimNative.trts_build_engine(
                    model, (nuint)onnx.Length, modelPathUtf8, in options, &plan, returnTimingCache ? &timingCache : null);
                // Own whatever came back before anything can throw.
                var planHandle = new TensorRtHostMemoryHandle(plan);
                var cacheHandle = timingCache != IntPtr.Zero ? new TensorRtHostMemoryHandle(timingCache) : null;
                if (status != ShimStatus.Ok)
                {
                    var failure = ShimStatusCheck.Failure(status,
                        $"Building a TensorRT engine from {(modelPath is null ? $"an ONNX model of {onnx.Length} bytes" : $"'{modelPath}'")}");
                    planHandle.Dispose();
                    cacheHandle?.Dispose();
                    throw failure;
                }
                return new TensorRtBuildResult(planHandle, cacheHandle);
            }
        }
        finally
        {
            Utf8StringMarshaller.Free(modelPathUtf8);
        }
    }

    /// <summary>The profiles as trts_profile/trts_profile_shape arrays in native memory, freed on dispose.</summary>
    private sealed unsafe class NativeProfiles : IDisposable
    {
        private readonly List<IntPtr> _arrays = [];
        private readonly List<IntPtr> _names = [];

        public NativeProfiles(IReadOnlyList<TensorRtOptimizationProfile> profiles)
        {
            ArgumentNullException.ThrowIfNull(profiles);
            Count = profiles.Count;
            if (Count == 0)
                return;
            try
            {
                var nativeProfiles = (TrtProfile*)Allocate(sizeof(TrtProfile) * Count);
                Pointer = (IntPtr)nativeProfiles;
                for (var p = 0; p < Count; p++)
                {
                    var inputs = profiles[p].Inputs;
                    var shapes = inputs.Count == 0 ? null : (TrtProfileShape*)Allocate(sizeof(TrtProfileShape) * inputs.Count);
                    nativeProfiles[p] = new TrtProfile { ShapeCount = inputs.Count, Shapes = (IntPtr)shapes };
                    for (var s = 0; s < inputs.Count; s++)
                    {
                        var range = inputs[s];
                        var name = Utf8StringMarshaller.ConvertToUnmanaged(range.InputName);
                        _names.Add((IntPtr)name);
                        shapes[s] = new TrtProfileShape
                        {
                            TensorName = (IntPtr)name,
                            Min = TrtDims.From(range.Min, range.InputName),
                            Opt = TrtDims.From(range.Opt, range.InputName),
                            Max = TrtDims.From(range.Max, range.InputName),
                        };
                    }
                }
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public int Count { get; }

        public IntPtr Pointer { get; }

        private void* Allocate(int bytes)
        {
            var memory = NativeMemory.AllocZeroed((nuint)bytes);
            _arrays.Add((IntPtr)memory);
            return memory;
        }

        public void Dispose()
        {
            // Each allocator's own free: the marshaller's allocator is its business, not NativeMemory's.
            foreach (var name in _names)
                Utf8StringMarshaller.Free((byte*)name);
            foreach (var array in _arrays)
                NativeMemory.Free((void*)array);
            _names.Clear();
            _arrays.Clear();
        }
    }
}
