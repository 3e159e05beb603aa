using TrtMLNet.Native.TensorRt;

namespace TrtMLNet.Backends.TensorRt;

/// <summary>
/// Makes TensorRT engines for the TensorRT backend: from a prebuilt plan file when
/// <see cref="EngineOptions.EngineFile"/> says so, otherwise built from the ONNX model with the
/// options, through the engine cache (and the timing cache file when one is set).
/// </summary>
internal static class TensorRtEngineLoader
{
    /// <summary>Why the TensorRT backend cannot run here (the shim, its ABI, libnvinfer, their majors); null when it can.</summary>
    public static string? WhyUnavailable() => TensorRtAvailability.WhyUnavailable();

    /// <summary>The engine on GPU <see cref="EngineOptions.DeviceId"/>, whose primary context is made current on this thread.</summary>
    public static IInferenceEngine Create(ModelSource model, EngineOptions options, Action<string> warn)
    {
        ArgumentNullException.ThrowIfNull(options);
        var shim = TensorRtShimLibrary.Info;
        var device = CudaTensorRtDevice.Open(options.DeviceId);
        return Create(model, options, shim, device, warn);
    }

    /// <summary>The engine on <paramref name="device"/>, with the shim described by <paramref name="shim"/>.</summary>
    internal static TensorRtEngine Create(ModelSource model, EngineOptions options, TensorRtShimInfo shim, ITensorRtDevice device, Action<string> warn)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(shim);
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(warn);
        return options.EngineFile is { } file
            ? LoadPlanFile(file, model, shim, device)
            : BuildThroughCache(model, options, shim, device, warn);
    }

    // ---- prebuilt plans ----

    private static TensorRtEngine LoadPlanFile(string file, ModelSource model, TensorRtShimInfo shim, ITensorRtDevice device)
    {
        var path = Path.GetFullPath(file);
        byte[] plan;
        try
        {
            plan = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundException($"The TensorRT plan file '{path}' (EngineFile) does not exist.", path, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"The TensorRT plan file '{path}' (EngineFile) cannot be read: {e.Message}", e);
        }
        if (plan.Length == 0)
            throw new InvalidDataException($"The TensorRT plan file '{path}' (EngineFile) is empty.");

        var engine = TensorRtEngine.Load(plan, device, shim, rejected => rejected.ErrorCode != TensorRtErrorCode.TensorRt
            ? rejected
            : new TensorRtException(rejected.ErrorCode,
                $"Loading the TensorRT plan '{path}' (a plan loads only into the TensorRT version and the GPU model it was built for, and this is " +
                $"TensorRT {shim.LoadedTensorRt} on {DescribeDevice(device)}: build the plan here, or leave EngineFile unset to let TrtMLNet build and cache one from the ONNX model)",
                rejected.NativeMessage));
        try
        {
            CheckPlanMatchesModel(engine, model, path);
            return engine;
        }
        catch
        {
            engine.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The columns are bound to the ONNX model's inputs, which the plan must therefore have, each with
    /// the same type and rank: a plan of another model would otherwise fail batch after batch, or
    /// read its inputs as the wrong type.
    /// </summary>
    private static void CheckPlanMatchesModel(TensorRtEngine engine, ModelSource model, string path)
    {
        var problems = new List<string>();
        foreach (var input in model.Onnx.Inputs)
        {
            var index = engine.InputIndex(input.Name);
            if (index < 0)
            {
                problems.Add($"it has no input '{input.Name}'");
                continue;
            }
            var tensor = engine.Inputs[index];
            if (tensor.ElementType != input.ElementType || tensor.Rank != input.Rank)
                problems.Add($"its input '{input.Name}' is {tensor.TypeName}{tensor.ShapeText} where the model's is {input.TypeName}{input.ShapeText}");
        }
        foreach (var input in engine.Inputs)
            if (!model.Onnx.Inputs.Any(i => i.Name == input.Name))
                problems.Add($"it has an input '{input.Name}' the model does not");
        if (problems.Count > 0)
            throw new InvalidOperationException(
                $"The TensorRT plan '{path}' (EngineFile) does not fit {model.Name}: {string.Join("; ", problems)}. Build the plan from this model, or give the model it was built from.");
    }

    // ---- building ----

    private static TensorRtEngine BuildThroughCache(ModelSource model, EngineOptions options, TensorRtShimInfo shim, ITensorRtDevice device, Action<string> warn)
    {
        var settings = BuildSettings(options, shim);
        var key = EngineCacheKey.For(model.OnnxBytes, settings, shim.LoadedTensorRt, device.Name, device.ComputeCapability, shim.AbiVersion);
        var cache = new EngineCache(options.EngineCacheDirectory ?? EngineCache.DefaultDirectory, warn);
        byte[] Build() => BuildPlan(model, settings, options.TimingCacheFile, shim, device, warn);

        var entry = cache.GetOrBuild(key, Build);
        try
        {
            return TensorRtEngine.Load(entry.Plan, device, shim, rejected => entry.FromCache && rejected.ErrorCode == TensorRtErrorCode.TensorRt
                ? new StaleEntryException(rejected)
                : rejected);
        }
        catch (StaleEntryException stale)
        {
            // The entry passed its checksums, so it is what was written; TensorRT refusing it means
            // something the key does not capture changed (a TensorRT build swapped in place). Once.
            cache.Invalidate(key, $"TensorRT {shim.LoadedTensorRt} refused to load it ({stale.Rejection.NativeMessage})");
            entry = cache.GetOrBuild(key, Build);
            return TensorRtEngine.Load(entry.Plan, device, shim);
        }
    }

    /// <summary>
    /// The options in the shim's terms, checked here so that a wrong value is reported before a build
    /// that may take minutes. Profiles are passed as resolved by the scoring layer.
    /// </summary>
    internal static TensorRtBuildSettings BuildSettings(EngineOptions options, TensorRtShimInfo shim)
    {
        if (options.Precision != TensorRtPrecision.Fp32 && !shim.SupportsPrecisionFlags)
            throw new NotSupportedException(
                $"Precision {options.Precision} cannot be asked of TensorRT {shim.CompiledTensorRt.Major}: it is strongly typed, and every layer runs in " +
                "the precision the model itself states. Export the model in FP16 (or BF16) instead, for example with onnxconverter-common's float16 " +
                "conversion or NVIDIA ModelOpt's AutoCast, and build it with Precision = Fp32 (which means: as the model says).");
        if (options.BuilderOptimizationLevel is < 0 or > 5)
            throw new ArgumentOutOfRangeException(nameof(options), options.BuilderOptimizationLevel,
                "BuilderOptimizationLevel must be between 0 and 5 (TensorRT's default is 3).");
        if (options.WorkspaceBytes is < 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.WorkspaceBytes, "WorkspaceBytes cannot be negative.");
        if (options.MaxAuxStreams is < 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxAuxStreams,
                "MaxAuxStreams cannot be negative: 0 keeps every layer on one stream, null lets TensorRT decide.");
        var both = options.EnableTactics & options.DisableTactics;
        if (both != TensorRtTacticSources.None)
            throw new ArgumentException($"Tactic sources {both} are both enabled and disabled.", nameof(options));
        return new TensorRtBuildSettings
        {
            Precision = options.Precision switch
            {
                TensorRtPrecision.Fp16 => ShimPrecision.Fp16,
                TensorRtPrecision.Bf16 => ShimPrecision.Bf16,
                _ => ShimPrecision.Fp32,
            },
            AllowTf32 = options.AllowTf32,
            OptimizationLevel = options.BuilderOptimizationLevel ?? -1,
            WorkspaceBytes = options.WorkspaceBytes ?? 0,
            EnableTactics = ToShim(options.EnableTactics),
            DisableTactics = ToShim(options.DisableTactics),
            MaxAuxStreams = options.MaxAuxStreams ?? -1,
            Profiles = options.Profiles
                .Select(profile => new TensorRtOptimizationProfile(profile
                    .Select(p => new TensorRtInputRange(p.Key, p.Value.Min, p.Value.Opt, p.Value.Max))
                    .ToList()))
                .ToList(),
        };
    }

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

    /// <summary>
    /// One build, seeded from the timing cache file when there is one and writing the updated cache
    /// back. A timing cache TensorRT rejects (another version or GPU wrote it) costs a warning and a
    /// build without it, never the build.
    /// </summary>
    private static byte[] BuildPlan(ModelSource model, TensorRtBuildSettings settings, string? timingCacheFile, TensorRtShimInfo shim, ITensorRtDevice device, Action<string> warn)
    {
        // TensorRT's builder works in the CUDA context current on the calling thread.
        device.MakeCurrent();
        var timingPath = timingCacheFile is null ? null : Path.GetFullPath(timingCacheFile);
        var timing = timingPath is null ? null : TimingCacheFile.Read(timingPath, warn);
        TensorRtBuildResult result;
        try
        {
            result = BuildOnce(model, settings with { TimingCache = timing }, timingPath is not null);
        }
        catch (TensorRtException e) when (timing is not null && TimingCacheFile.IsRejection(e))
        {
            warn($"TensorRT {shim.LoadedTensorRt} rejected the timing cache '{timingPath}' ({e.NativeMessage}); it was probably written by another " +
                "TensorRT version or GPU. Building without it; the file is replaced by this build's cache.");
            result = BuildOnce(model, settings with { TimingCache = ReadOnlyMemory<byte>.Empty }, returnTimingCache: true);
        }
        using (result)
        {
            if (timingPath is not null && result.TimingCache is not null)
                TimingCacheFile.Write(timingPath, result.TimingCache, warn);
            if (result.Plan.Size > Array.MaxLength)
                throw new NotSupportedException(
                    $"The TensorRT plan built from {model.Name} is {Bytes.Format(result.Plan.Size)}, more than TrtMLNet can hold in one array (2 GiB).");
            return result.Plan.ToArray();
        }
    }

    private static TensorRtBuildResult BuildOnce(ModelSource model, TensorRtBuildSettings settings, bool returnTimingCache)
    {
        try
        {
            return TensorRtEngineBuilder.Build(model.OnnxBytes, modelPath: null, settings, returnTimingCache);
        }
        catch (TensorRtException e)
        {
            // The builder only knows a byte count; name the model.
            throw new TensorRtException(e.ErrorCode, $"Building a TensorRT engine from {model.Name}", e.NativeMessage);
        }
    }

    private static string DescribeDevice(ITensorRtDevice device) =>
        $"GPU {device.Ordinal} ({device.Name}, compute capability {device.ComputeCapability.Major}.{device.ComputeCapability.Minor})";

    /// <summary>A cached plan TensorRT refused: rebuilt once rather than reported.</summary>
    private sealed class StaleEntryException(TensorRtException rejection) : Exception(rejection.Message)
    {
        public TensorRtException Rejection { get; } = rejection;
    }
}
