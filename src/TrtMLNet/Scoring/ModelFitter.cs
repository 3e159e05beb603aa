using Microsoft.ML.Data;
using TrtMLNet.Backends;
using TrtMLNet.Execution;

namespace TrtMLNet.Scoring;

/// <summary>What fitting needs from the MLContext: its GPU defaults and its log.</summary>
internal sealed record FitEnvironment(int? GpuDeviceId, bool? FallbackToCpu, Action<string> Warn, Action<string> Info)
{
    public static FitEnvironment Silent { get; } = new(null, null, _ => { }, _ => { });
}

/// <summary>
/// Fits a model to its columns, in named steps: bind the shapes, choose the engine, place it on its
/// device. Options arrive validated (<see cref="TensorRtOptions.Validate"/>). Everything made along the
/// way is released again when a later step fails.
/// </summary>
internal static class ModelFitter
{
    /// <param name="options">Validated options.</param>
    /// <param name="model">The ONNX model.</param>
    /// <param name="columnType">A column's type by name; null when the data has no such column.</param>
    /// <param name="environment">The MLContext's defaults and log.</param>
    /// <param name="makeEngine">Tests: makes the engine instead of the backends.</param>
    public static FittedModel Fit(TensorRtOptions options, ModelSource model, Func<string, DataViewType?> columnType, FitEnvironment environment,
        Func<EngineOptions, IInferenceEngine>? makeEngine = null)
    {
        var opened = options.OpenBatchDimension && model.Onnx.Inputs.Any(i => i.Rank > 0 && i.Shape[0] == 1);
        if (opened)
        {
            model = ModelSource.FromBytes(Onnx.OnnxModelEditor.WithOpenBatch(model.OnnxBytes), model.Name + " (batch dimension opened)");
            environment.Info($"{model.Name}: the leading dimension of its inputs and outputs was opened so rows run in batches of {options.BatchSize}.");
        }
        var shapes = BindShapes(options, model, columnType, environment);
        var skipped = new List<SkippedBackend>();
        var engine = ChooseEngine(options, model, shapes, environment, skipped, makeEngine);
        try
        {
            environment.Info($"{model.Name}: {engine.Description}, batches of {shapes.BatchSize}.");
            ResolveOutputs(options, model, shapes, engine, opened);
            // Placed first: a batch too large for the device fails there, naming the batch and the memory.
            var runtime = PlaceOnDevice(options, model, shapes, engine);
            try
            {
                WarmUp(shapes, engine, model.Name, environment.Info);
                var fitted = new FittedModel(shapes, runtime, options.ReadAheadBatches, environment.Warn)
                {
                    SkippedBackends = skipped,
                    Precision = engine.Device.SharesHostMemory ? TensorRtPrecision.Fp32 : options.Precision,
                    ImageInputs = ImageDecoding(shapes, runtime, environment),
                };
                if (options.WarmUpLanes)
                    LaneWarmUp.Run(fitted, environment.Info, environment.Warn);
                return fitted;
            }
            catch
            {
                runtime.Close();
                throw;
            }
        }
        catch
        {
            engine.Dispose();
            throw;
        }
    }

    /// <summary>Step 1: which column feeds which input, and every per-row shape.</summary>
    private static ModelShapes BindShapes(TensorRtOptions options, ModelSource model, Func<string, DataViewType?> columnType, FitEnvironment environment)
    {
        var inputColumns = options.InputColumns is { Length: > 0 } given ? given : model.Onnx.Inputs.Select(i => i.Name).ToArray();
        var shapes = ModelShapes.Bind(model.Onnx.Inputs, inputColumns, columnType, options.ShapeDictionary, options.BatchSize, model.Name, options.ImageInputs);
        if (options.BatchSize != shapes.BatchSize && shapes.BatchKind == BatchKind.Fixed)
            environment.Warn($"{model.Name} fixes its batch dimension at {shapes.BatchSize}, so it runs {shapes.BatchSize} row(s) at a time " +
                $"whatever BatchSize says ({options.BatchSize}). " +
                $"Export it with an open batch dimension to batch it.");
        // Said, not warned: a prediction pool sets buckets on every model file it loads, fixed batch or not.
        if (options.BatchBuckets is { Length: > 0 } && shapes.BatchKind == BatchKind.Fixed)
            environment.Info($"{model.Name} fixes its batch dimension at {shapes.BatchSize}, so its batches run at that size and BatchBuckets " +
                $"({string.Join(", ", options.BatchBuckets)}) do not apply. Export it with an open batch dimension, or set OpenBatchDimension, to use them.");
        return shapes;
    }

    /// <summary>Step 2: the backend, and the engine made on it (which chooses the device, once).</summary>
    private static IInferenceEngine ChooseEngine(TensorRtOptions options, ModelSource model, ModelShapes shapes, FitEnvironment environment,
        List<SkippedBackend> skipped, Func<EngineOptions, IInferenceEngine>? makeEngine)
    {
        var deviceId = options.DeviceId ?? environment.GpuDeviceId ?? 0;
        if (makeEngine is not null)
            return makeEngine(EngineOptionsFor(options.Backend, options, shapes, deviceId));
        // MLContext.FallbackToCpu is a plain bool, false unless set: only its true means anything here.
        var fallback = options.FallbackToCpu ?? (environment.FallbackToCpu == true ? true : null);
        return EngineFactory.Create(model, options.Backend, fallback, deviceId,
            backend => EngineOptionsFor(backend, options, shapes, deviceId), environment.Warn, environment.Info, skipped);
    }

    /// <summary>
    /// Step 3b: on an engine that tunes per shape, one run of each batch size it is tuned for now, so its
    /// tuning (cuDNN's algorithm search: seconds on ResNet-50) is part of fitting rather than of the first
    /// batches scored.
    /// </summary>
    private static void WarmUp(ModelShapes shapes, IInferenceEngine engine, string modelName, Action<string> info)
    {
        if (engine.TunedBatchSizes is not { } sizes)
            return;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        foreach (var rows in sizes)
            engine.InferOutputShapes(shapes.InputShapesFor(rows));
        info($"{modelName}: tuned for batches of {string.Join(", ", sizes)} in {clock.Elapsed.TotalSeconds:0.0} s.");
    }

    /// <summary>Step 3: every output's per-row shape, from the model or by asking the engine.</summary>
    private static void ResolveOutputs(TensorRtOptions options, ModelSource model, ModelShapes shapes, IInferenceEngine engine, bool opened)
    {
        try
        {
            shapes.ResolveOutputs(SelectOutputs(options, engine.Outputs, model.Name), engine.InferOutputShapes, model.Name, verifyBatching: opened);
        }
        catch (Exception e) when (opened && e is not CudaException)
        {
            throw new InvalidOperationException(
                $"OpenBatchDimension does not work for {model.Name}: run at two rows, {e.Message} Leave OpenBatchDimension off (the model then runs one row at a time) or " +
                    $"export it with an open batch dimension.", e);
        }
    }

    /// <summary>Step 5: what decodes each image input, living as long as the engine does.</summary>
    private static Dictionary<int, ImageInputRuntime> ImageDecoding(ModelShapes shapes, ModelRuntime runtime, FitEnvironment environment)
    {
        var images = new Dictionary<int, ImageInputRuntime>();
        for (var i = 0; i < shapes.Inputs.Count; i++)
        {
            if (shapes.Inputs[i].Image is null)
                continue;
            var image = ImageInputRuntime.Create(shapes.Inputs[i], runtime.Pool.Device, environment.Info);
            runtime.Attach(image);
            image.Gpu?.Prepare(runtime.Pool.Lanes.Count, image.Image.Layout, shapes.BatchSize);
            images[i] = image;
        }
        return images;
    }

    /// <summary>Step 4: the engine on its device's pool: contexts, scratch in the arena, IO room in every lane.</summary>
    private static ModelRuntime PlaceOnDevice(TensorRtOptions options, ModelSource model, ModelShapes shapes, IInferenceEngine engine)
    {
        var pool = ExecutionPool.Acquire(engine.Device);
        var settings = new RuntimeSettings(
            ModelName: model.Name,
            Lanes: options.Lanes,
            ContextsPerProfile: options.ContextsPerEngine ?? options.Lanes,
            ShareScratch: options.ShareScratch,
            ScratchSlabs: options.ScratchSlabs ?? options.Lanes,
            IoBytesPerLane: FittedModel.LayoutOf(shapes).TotalBytes);
        try
        {
            return new ModelRuntime(engine, pool, settings);
        }
        catch (CudaException e) when (e.Error == CudaError.OutOfMemory)
        {
            pool.Release();
            throw new CudaException(e.Error, e.ErrorName,
                $"Batches of {shapes.BatchSize} rows of {model.Name} do not fit on {pool.Device}: each of the {options.Lanes} lane(s) needs " +
                $"{Bytes.Format(settings.IoBytesPerLane)} of IO buffers besides the engine and its scratch. Use a smaller BatchSize or fewer Lanes. ({e.Message})");
        }
        catch
        {
            pool.Release();
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
        IntraOpThreads = options.IntraOpThreads ?? (backend == TensorRtBackend.OnnxRuntimeCpu ? Math.Max(1, Environment.ProcessorCount / options.Lanes) : null),
        ConcurrentContexts = options.ContextsPerEngine ?? options.Lanes,
        ShareScratch = options.ShareScratch,
        EngineFile = options.EngineFile,
        EngineCacheDirectory = options.EngineCacheDirectory,
        BatchSizes = BatchSizes(options, shapes),
        Build = EngineBuildOptions.From(options, Profiles(options, shapes)),
    };

    /// <summary>The buckets below the full batch, then the full batch (validated: 1 to BatchSize; an open batch dimension checked in BindShapes).</summary>
    private static IReadOnlyList<int> BatchSizes(TensorRtOptions options, ModelShapes shapes) =>
        shapes.BatchKind == BatchKind.Fixed ? [shapes.BatchSize]
        : [.. (options.BatchBuckets ?? []).Where(b => b < shapes.BatchSize).Append(shapes.BatchSize).Distinct().Order()];

    /// <summary>The profiles to build: the user's, else batch 1 to BatchSize at the columns' shapes.</summary>
    private static IReadOnlyList<IReadOnlyDictionary<string, (long[] Min, long[] Opt, long[] Max)>> Profiles(TensorRtOptions options, ModelShapes shapes)
    {
        if (options.Profiles is { Count: > 0 } given)
        {
            return given.Select(p => (IReadOnlyDictionary<string, (long[], long[], long[])>)p.Shapes.ToDictionary(
                s => shapes.Inputs.Any(i => i.Tensor.Name == s.Key) ? s.Key : throw new ArgumentException($"A TensorRtProfile names '{s.Key}', which is not an input the model " +
                    $"is fed."),
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
