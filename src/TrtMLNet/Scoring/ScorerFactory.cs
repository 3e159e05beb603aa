using Microsoft.ML.Data;
using TrtMLNet.Backends;
using TrtMLNet.Execution;
using TrtMLNet.Native.Cuda;

namespace TrtMLNet.Scoring;

/// <summary>
/// Fits a model to its columns: binds the shapes, picks the backend and makes the engine, settles the
/// outputs, and places the engine on its device's pool. Everything made along the way is released
/// again when a later step fails.
/// </summary>
internal static class ScorerFactory
{
    public static BatchScorer Create(
        TensorRtOptions options,
        ModelSource model,
        Func<string, DataViewType?> columnType,
        int? contextGpuDeviceId,
        bool? contextFallbackToCpu,
        Action<string> warn,
        Action<string> info,
        Func<EngineOptions, IInferenceEngine>? makeEngine = null)
    {
        var opened = options.OpenBatchDimension && model.Onnx.Inputs.Any(i => i.Rank > 0 && i.Shape[0] == 1);
        if (opened)
        {
            model = ModelSource.FromBytes(Backends.OnnxRuntime.OnnxModelFile.WithOpenBatch(model.OnnxBytes), model.Name + " (batch dimension opened)");
            info($"{model.Name}: the leading dimension of its inputs and outputs was opened so rows run in batches of {options.BatchSize}.");
        }
        var onnx = model.Onnx;
        var inputColumns = options.InputColumns is { Length: > 0 } given ? given : onnx.Inputs.Select(i => i.Name).ToArray();
        var shapes = ModelShapes.Bind(onnx.Inputs, inputColumns, columnType, options.ShapeDictionary, options.BatchSize, model.Name);
        var deviceId = options.DeviceId ?? contextGpuDeviceId ?? 0;
        if (options.BatchSize != shapes.BatchSize && shapes.BatchKind == BatchKind.Fixed)
            warn($"{model.Name} fixes its batch dimension at {shapes.BatchSize}, so it runs {shapes.BatchSize} row(s) at a time whatever BatchSize says ({options.BatchSize}). Export it with an open batch dimension to batch it.");

        // Start the device's pool before the engine, so its memory baseline is taken before anything is allocated.
        var gpuPool = options.Backend != TensorRtBackend.OnnxRuntimeCpu && CudaDriver.IsAvailable(out _) && deviceId >= 0 && deviceId < CudaDriver.DeviceCount
            ? ExecutionPool.Acquire(ComputeDevice.Gpu(deviceId))
            : null;
        IInferenceEngine? engine = null;
        ExecutionPool? pool = null;
        var skipped = new List<SkippedBackend>();
        try
        {
            // MLContext.FallbackToCpu is a plain bool, false unless set: only its true means anything here.
            var fallback = options.FallbackToCpu ?? (contextFallbackToCpu == true ? true : null);
            engine = makeEngine is not null
                ? makeEngine(EngineOptionsFor(options.Backend, options, shapes, deviceId))
                : EngineFactory.Create(model, options.Backend, fallback, deviceId, backend => EngineOptionsFor(backend, options, shapes, deviceId), warn, skipped);
            info($"{model.Name}: {engine.Description}, batches of {shapes.BatchSize}.");
            try
            {
                shapes.ResolveOutputs(SelectOutputs(options, engine.Outputs, model.Name), engine.InferOutputShapes, model.Name, verifyBatching: opened);
            }
            catch (Exception e) when (opened && e is not CudaException)
            {
                throw new InvalidOperationException(
                    $"OpenBatchDimension does not work for {model.Name}: run at two rows, {e.Message} Leave OpenBatchDimension off (the model then runs one row at a time) or export it with an open batch dimension.", e);
            }

            if (engine.DeviceId < 0)
            {
                gpuPool?.Release();
                gpuPool = null;
                pool = ExecutionPool.Acquire(ComputeDevice.Cpu);
            }
            else
            {
                (pool, gpuPool) = (gpuPool, null);
            }
            var lanes = Math.Max(1, options.MaxConcurrency);
            var settings = new RuntimeSettings(
                ModelName: model.Name,
                Lanes: lanes,
                ContextsPerProfile: Math.Max(1, options.ContextsPerEngine ?? lanes),
                ShareScratch: options.ShareScratch,
                ScratchSlabs: Math.Max(1, options.ScratchSlabs ?? lanes),
                IoBytesPerLane: BatchScorer.IoBytes(shapes));
            ModelRuntime runtime;
            try
            {
                runtime = new ModelRuntime(engine, pool!, settings);
            }
            catch (CudaException e) when (e.Error == CudaError.OutOfMemory)
            {
                throw new CudaException(e.Error, e.ErrorName,
                    $"Batches of {shapes.BatchSize} rows of {model.Name} do not fit on {pool!.Device}: each of the {lanes} lane(s) needs " +
                    $"{Bytes.Format(settings.IoBytesPerLane)} of IO buffers besides the engine and its scratch. Use a smaller BatchSize or MaxConcurrency. ({e.Message})");
            }
            return new BatchScorer(shapes, runtime, options.ReadAheadBatches) { SkippedBackends = skipped };
        }
        catch
        {
            engine?.Dispose();
            pool?.Release();
            gpuPool?.Release();
            throw;
        }
    }

    /// <summary>The outputs asked for, in the order asked; every one must exist and have a column type.</summary>
    public static IReadOnlyList<TensorInfo> SelectOutputs(TensorRtOptions options, IReadOnlyList<TensorInfo> outputs, string modelName)
    {
        if (options.OutputColumns is not { Length: > 0 } names)
            return outputs.Where(o => o.ElementType != TensorElementType.Unsupported).ToList();
        return names.Select(name =>
        {
            var output = outputs.FirstOrDefault(o => o.Name == name)
                ?? throw new ArgumentException($"Output column '{name}' is not an output of {modelName}: its outputs are {string.Join(", ", outputs.Select(o => o.ToString()))}.");
            if (output.ElementType == TensorElementType.Unsupported)
                throw new ArgumentException($"Output {output} of {modelName} has type {output.TypeName}, which no ML.NET column carries.");
            return output;
        }).ToList();
    }

    private static EngineOptions EngineOptionsFor(TensorRtBackend backend, TensorRtOptions options, ModelShapes shapes, int deviceId) => new()
    {
        Backend = backend,
        DeviceId = deviceId,
        // Lanes run at once on the CPU too: by default they split the cores instead of each taking them all.
        IntraOpThreads = options.IntraOpThreads ?? (backend == TensorRtBackend.OnnxRuntimeCpu ? Math.Max(1, Environment.ProcessorCount / Math.Max(1, options.MaxConcurrency)) : null),
        Precision = options.Precision,
        AllowTf32 = options.AllowTf32,
        WorkspaceBytes = options.WorkspaceBytes,
        EnableTactics = options.EnableTactics,
        DisableTactics = options.DisableTactics,
        BuilderOptimizationLevel = options.BuilderOptimizationLevel,
        MaxAuxStreams = options.MaxAuxStreams,
        EngineFile = options.EngineFile,
        EngineCacheDirectory = options.EngineCacheDirectory,
        TimingCacheFile = options.TimingCacheFile,
        CudaGraphs = options.CudaGraphs,
        ShareScratch = options.ShareScratch,
        Profiles = Profiles(options, shapes),
    };

    /// <summary>The profiles to build: the user's, else batch 1 to BatchSize at the columns' shapes.</summary>
    private static IReadOnlyList<IReadOnlyDictionary<string, (long[] Min, long[] Opt, long[] Max)>> Profiles(TensorRtOptions options, ModelShapes shapes)
    {
        if (options.Profiles is { Count: > 0 } given)
        {
            return given.Select(p => (IReadOnlyDictionary<string, (long[], long[], long[])>)p.Shapes.ToDictionary(
                s => shapes.Inputs.Any(i => i.Tensor.Name == s.Key) ? s.Key : throw new ArgumentException($"A TensorRtProfile names '{s.Key}', which is not an input the model is fed."),
                s => (Longs(s.Value.Min), Longs(s.Value.Opt), Longs(s.Value.Max)))).ToList();
        }
        var min = shapes.BatchKind == BatchKind.Fixed ? shapes.BatchSize : 1;
        return
        [
            shapes.Inputs.ToDictionary(i => i.Tensor.Name, i => (
                ModelShapes.WithBatch(i.Tensor, i.RowShape, min),
                ModelShapes.WithBatch(i.Tensor, i.RowShape, shapes.BatchSize),
                ModelShapes.WithBatch(i.Tensor, i.RowShape, shapes.BatchSize))),
        ];
    }

    private static long[] Longs(int[] dims) => dims.Select(d => (long)d).ToArray();
}
