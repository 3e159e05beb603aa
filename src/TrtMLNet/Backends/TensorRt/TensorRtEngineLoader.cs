using TrtMLNet.Device;
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

    /// <summary>
    /// The engine on GPU <see cref="EngineOptions.DeviceId"/>. TensorRT's log goes to
    /// <paramref name="warn"/> and <paramref name="info"/> (the MLContext's log) while it builds or loads.
    /// </summary>
    public static IInferenceEngine Create(ModelSource model, EngineOptions options, Action<string> warn, Action<string> info)
    {
        ArgumentNullException.ThrowIfNull(options);
        var shim = ShimLibrary.Info;
        void Forward(ShimLogSeverity severity, string message)
        {
            if (severity <= ShimLogSeverity.Warning) warn($"TensorRT: {message}");
            else info($"TensorRT: {message}");
        }
        ShimLibrary.Log += Forward;
        try
        {
            return Create(model, options, shim, ComputeDevice.Gpu(options.DeviceId), warn);
        }
        finally
        {
            ShimLibrary.Log -= Forward;
        }
    }

    /// <summary>The engine on <paramref name="device"/>, with the shim described by <paramref name="shim"/>.</summary>
    internal static TensorRtEngine Create(ModelSource model, EngineOptions options, ShimInfo shim, ComputeDevice device, Action<string> warn)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(shim);
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(warn);
        var engine = options.EngineFile is { } file
            ? LoadPlanFile(file, model, shim, device)
            : BuildThroughCache(model, options, shim, device, warn);
        if (engine.ContextsNeedOwnProfile && engine.Profiles.Count < options.ConcurrentContexts)
            warn($"The TensorRT engine for {model.Name} has {engine.Profiles.Count} optimization profile(s), so at most {engine.Profiles.Count} batch(es) run on it at once: " +
                $"TensorRT needs a profile of its own for every context in concurrent use. Build the plan with its profile repeated {options.ConcurrentContexts} times (one per " +
                    $"lane) to use every lane.");
        return engine;
    }

    /// <summary>
    /// The profiles to build: with dynamic shapes, each profile repeated once per context that may run
    /// at once (TensorRT's rule: contexts in concurrent use need profiles of their own). TensorRT tunes
    /// every profile on its own, so this multiplies the build time by the copies and adds a little to
    /// the plan per copy (the weights are shared); the plan is cached and reused afterwards.
    /// </summary>
    internal static EngineBuildOptions WithProfilePerContext(EngineBuildOptions build, ModelSource model, int contexts)
    {
        var dynamic = model.Onnx.Inputs.Any(i => i.Shape.Any(d => d < 0));
        if (!dynamic || contexts <= 1 || build.Profiles.Count == 0)
            return build;
        return build with { Profiles = [.. build.Profiles.SelectMany(p => Enumerable.Repeat(p, contexts))] };
    }

    // ---- prebuilt plans ----

    private static TensorRtEngine LoadPlanFile(string file, ModelSource model, ShimInfo shim, ComputeDevice device)
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
                $"TensorRT {shim.LoadedTensorRt} on {DescribeDevice(device)}: build the plan here, or leave EngineFile unset to let TrtMLNet build and cache one from the ONNX " +
                    $"model)",
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
                $"The TensorRT plan '{path}' (EngineFile) does not fit {model.Name}: {string.Join("; ", problems)}. Build the plan from this model, or give the model it was " +
                    $"built from.");
    }

    // ---- building ----

    private static TensorRtEngine BuildThroughCache(ModelSource model, EngineOptions options, ShimInfo shim, ComputeDevice device, Action<string> warn)
    {
        var cacheDirectory = options.EngineCacheDirectory ?? EngineCache.DefaultDirectory;
        if (options.Build.Precision != TensorRtPrecision.Fp32 && !shim.SupportsPrecisionFlags)
        {
            // TensorRT 11 is strongly typed: the precision is the model's, so it gets the rewritten model.
            model = RewrittenModels.For(model, options.Build with { FuseTransformerOps = false }, cacheDirectory, _ => { }, warn);
            options = options with { Build = options.Build with { Precision = TensorRtPrecision.Fp32 } };
        }
        var build = WithProfilePerContext(options.Build, model, options.ConcurrentContexts);
        var key = EngineCacheKey.For(model.OnnxBytes, build, shim.LoadedTensorRt, device.ModelName, device.ComputeCapability!, shim.AbiVersion);
        var cache = new EngineCache(cacheDirectory, warn);
        byte[] Build() => BuildPlan(model, build, shim, device, warn);

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
    /// One build, seeded from the timing cache file when there is one and writing the updated cache
    /// back. A timing cache TensorRT rejects (another version or GPU wrote it) costs a warning and a
    /// build without it, never the build.
    /// </summary>
    private static byte[] BuildPlan(ModelSource model, EngineBuildOptions build, ShimInfo shim, ComputeDevice device, Action<string> warn)
    {
        // TensorRT's builder works in the CUDA context current on the calling thread.
        device.MakeCurrent();
        var timingPath = build.TimingCacheFile is null ? null : Path.GetFullPath(build.TimingCacheFile);
        var timing = timingPath is null ? null : TimingCacheStore.Read(timingPath, warn);
        ShimBuildResult result;
        try
        {
            result = BuildOnce(model, build, timing ?? [], timingPath is not null);
        }
        catch (TensorRtException e) when (timing is not null && TimingCacheStore.IsRejection(e))
        {
            warn($"TensorRT {shim.LoadedTensorRt} rejected the timing cache '{timingPath}' ({e.NativeMessage}); it was probably written by another " +
                "TensorRT version or GPU. Building without it; the file is replaced by this build's cache.");
            result = BuildOnce(model, build, [], returnTimingCache: true);
        }
        using (result)
        {
            if (timingPath is not null && result.TimingCache is not null)
                TimingCacheStore.Write(timingPath, result.TimingCache, warn);
            if (result.Plan.Size > Array.MaxLength)
                throw new NotSupportedException(
                    $"The TensorRT plan built from {model.Name} is {Bytes.Format(result.Plan.Size)}, more than TrtMLNet can hold in one array (2 GiB).");
            return result.Plan.ToArray();
        }
    }

    private static ShimBuildResult BuildOnce(ModelSource model, EngineBuildOptions build, byte[] timingCache, bool returnTimingCache)
    {
        try
        {
            return ShimEngineBuilder.Build(model.OnnxBytes, modelPath: null, build, timingCache, returnTimingCache);
        }
        catch (TensorRtException e)
        {
            // The builder only knows a byte count; name the model.
            throw new TensorRtException(e.ErrorCode, $"Building a TensorRT engine from {model.Name}", e.NativeMessage);
        }
    }

    private static string DescribeDevice(ComputeDevice device) =>
        $"GPU {device.Id} ({device.ModelName}, compute capability {device.ComputeCapability})";

    /// <summary>A cached plan TensorRT refused: rebuilt once rather than reported.</summary>
    private sealed class StaleEntryException(TensorRtException rejection) : Exception(rejection.Message)
    {
        public TensorRtException Rejection { get; } = rejection;
    }
}
