using System.Runtime.InteropServices;
using System.Runtime.InteropServices.Marshalling;

namespace TrtMLNet.Native.TensorRt;

/// <summary>A build's outputs: the plan, and the timing cache after the build when it was asked for.</summary>
internal sealed record ShimBuildResult(ShimHostMemoryHandle Plan, ShimHostMemoryHandle? TimingCache) : IDisposable
{
    public void Dispose()
    {
        Plan.Dispose();
        TimingCache?.Dispose();
    }
}

/// <summary>Builds engines from ONNX bytes through the shim (trts_build_engine).</summary>
internal static class ShimEngineBuilder
{
    /// <summary>
    /// Parses the model and builds a serialized plan: slow (seconds to many minutes), and the plan is
    /// tied to this TensorRT version and GPU, which is why callers cache it on disk.
    /// </summary>
    /// <param name="onnx">The model's bytes.</param>
    /// <param name="modelPath">Where the model lives, so the parser finds external weights beside it; null when the bytes are all there is.</param>
    /// <param name="options">Build options, already validated (TensorRtOptions.Validate).</param>
    /// <param name="timingCache">A serialized timing cache to start from (empty: none); it must come from the same TensorRT version.</param>
    /// <param name="returnTimingCache">Whether to hand back the timing cache, to seed the next build.</param>
    public static unsafe ShimBuildResult Build(
        ReadOnlySpan<byte> onnx, string? modelPath, EngineBuildOptions options, ReadOnlySpan<byte> timingCache, bool returnTimingCache)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var native = new NativeProfiles(options.Profiles);
        var modelPathUtf8 = modelPath is null ? null : Utf8StringMarshaller.ConvertToUnmanaged(modelPath);
        try
        {
            fixed (byte* model = onnx)
            fixed (byte* cache = timingCache)
            {
                var shimOptions = new ShimBuildOptions
                {
                    StructSize = sizeof(ShimBuildOptions),
                    Precision = ToShim(options.Precision),
                    AllowTf32 = options.AllowTf32 ? 1 : 0,
                    OptimizationLevel = options.BuilderOptimizationLevel ?? -1,
                    WorkspaceBytes = options.WorkspaceBytes ?? 0,
                    TacticsEnable = ToShim(options.EnableTactics),
                    TacticsDisable = ToShim(options.DisableTactics),
                    MaxAuxStreams = options.MaxAuxStreams ?? -1,
                    ProfileCount = native.Count,
                    Profiles = native.Pointer,
                    TimingCache = timingCache.IsEmpty ? IntPtr.Zero : (IntPtr)cache,
                    TimingCacheSize = (nuint)timingCache.Length,
                };
                IntPtr plan = IntPtr.Zero, cacheOut = IntPtr.Zero;
                var status = ShimNative.trts_build_engine(
                    model, (nuint)onnx.Length, modelPathUtf8, in shimOptions, &plan, returnTimingCache ? &cacheOut : null);
                // Own whatever came back before anything can throw.
                var planHandle = new ShimHostMemoryHandle(plan);
                var cacheHandle = cacheOut != IntPtr.Zero ? new ShimHostMemoryHandle(cacheOut) : null;
                if (status != TensorRtErrorCode.Ok)
                {
                    var failure = ShimStatusCheck.Failure(status,
                        $"Building a TensorRT engine from {(modelPath is null ? $"an ONNX model of {onnx.Length} bytes" : $"'{modelPath}'")}");
                    planHandle.Dispose();
                    cacheHandle?.Dispose();
                    throw failure;
                }
                return new ShimBuildResult(planHandle, cacheHandle);
            }
        }
        finally
        {
            Utf8StringMarshaller.Free(modelPathUtf8);
        }
    }

    private static ShimPrecision ToShim(TensorRtPrecision precision) => precision switch
    {
        TensorRtPrecision.Fp16 => ShimPrecision.Fp16,
        TensorRtPrecision.Bf16 => ShimPrecision.Bf16,
        _ => ShimPrecision.Fp32,
    };

    /// <summary>The shim's tactic bits are its own (trts_tactic_source), never TensorRT's numbers.</summary>
    private static ShimTacticSources ToShim(TensorRtTacticSources sources)
    {
        var shim = ShimTacticSources.None;
        if (sources.HasFlag(TensorRtTacticSources.Cublas)) shim |= ShimTacticSources.Cublas;
        if (sources.HasFlag(TensorRtTacticSources.CublasLt)) shim |= ShimTacticSources.CublasLt;
        if (sources.HasFlag(TensorRtTacticSources.Cudnn)) shim |= ShimTacticSources.Cudnn;
        if (sources.HasFlag(TensorRtTacticSources.EdgeMaskConvolutions)) shim |= ShimTacticSources.EdgeMaskConvolutions;
        if (sources.HasFlag(TensorRtTacticSources.JitConvolutions)) shim |= ShimTacticSources.JitConvolutions;
        return shim;
    }

    /// <summary>The profiles as trts_profile/trts_profile_shape arrays in native memory, freed on dispose.</summary>
    private sealed unsafe class NativeProfiles : IDisposable
    {
        private readonly List<IntPtr> _arrays = [];
        private readonly List<IntPtr> _names = [];

        public NativeProfiles(IReadOnlyList<IReadOnlyDictionary<string, (long[] Min, long[] Opt, long[] Max)>> profiles)
        {
            ArgumentNullException.ThrowIfNull(profiles);
            Count = profiles.Count;
            if (Count == 0)
                return;
            try
            {
                var nativeProfiles = (ShimProfile*)Allocate(sizeof(ShimProfile) * Count);
                Pointer = (IntPtr)nativeProfiles;
                for (var p = 0; p < Count; p++)
                {
                    var inputs = profiles[p].ToList();
                    var shapes = inputs.Count == 0 ? null : (ShimProfileShape*)Allocate(sizeof(ShimProfileShape) * inputs.Count);
                    nativeProfiles[p] = new ShimProfile { ShapeCount = inputs.Count, Shapes = (IntPtr)shapes };
                    for (var s = 0; s < inputs.Count; s++)
                    {
                        var (inputName, range) = inputs[s];
                        var name = Utf8StringMarshaller.ConvertToUnmanaged(inputName);
                        _names.Add((IntPtr)name);
                        shapes[s] = new ShimProfileShape
                        {
                            TensorName = (IntPtr)name,
                            Min = ShimDims.From(range.Min, inputName),
                            Opt = ShimDims.From(range.Opt, inputName),
                            Max = ShimDims.From(range.Max, inputName),
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
