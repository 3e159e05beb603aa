using System.Text.Json.Serialization;

namespace TrtMLNet;

/// <summary>
/// Everything <c>ApplyTensorRt</c> takes. A saved model carries these options as JSON, all but the
/// file paths (which belong to the machine that saved it) and the profiles. The first group mirrors ML.NET's <c>OnnxOptions</c>, so a
/// pipeline moves from <c>ApplyOnnxModel</c> by renaming; the rest is what batching, the GPU and
/// TensorRT add.
/// </summary>
public sealed class TensorRtOptions
{
    /// <summary>The default for <see cref="BatchSize"/>.</summary>
    public const int DefaultBatchSize = 128;

    // ---- as in ApplyOnnxModel ----

    /// <summary>The ONNX model. Needed unless <see cref="EngineFile"/> names a prebuilt TensorRT plan.</summary>
    [JsonIgnore]
    public string? ModelFile { get; set; }

    /// <summary>
    /// Names of the input columns, which are also the model's input tensor names (as in
    /// ApplyOnnxModel); null or empty means every model input.
    /// </summary>
    public string[]? InputColumns { get; set; }

    /// <summary>Names of the output columns, which are the model's output tensor names; null or empty means every output.</summary>
    public string[]? OutputColumns { get; set; }

    /// <summary>
    /// The GPU to run on. Null takes <c>MLContext.GpuDeviceId</c>, and GPU 0 when that is null too
    /// (unlike ApplyOnnxModel, where null means the CPU: a GPU is what this library is for).
    /// </summary>
    public int? DeviceId { get; set; }

    /// <summary>
    /// Whether to run on the CPU when the GPU backend cannot be used. Null (the default): <see cref="TensorRtBackend.Auto"/>
    /// may end on the CPU, with a warning, and an explicitly chosen GPU backend may not. True: any backend
    /// falls back. False: never, the error says why each GPU backend could not be used.
    /// </summary>
    public bool? FallbackToCpu { get; set; }

    /// <summary>
    /// Shapes for inputs whose dimensions the model leaves open and the columns cannot tell (as in
    /// ApplyOnnxModel): tensor name to its full shape. A leading batch dimension given here is
    /// replaced by the batch being run.
    /// </summary>
    public IDictionary<string, int[]>? ShapeDictionary { get; set; }

    /// <summary>
    /// Inputs fed with images, by the model's tensor name: each reads a column of image file paths (text)
    /// or encoded image bytes, and decodes, resizes and normalises every batch straight into the tensor,
    /// on every core or on the GPU with nvJPEG (see <see cref="ImageInputOptions"/>).
    /// </summary>
    public IDictionary<string, ImageInputOptions>? ImageInputs { get; set; }

    /// <summary>Feeds the model's input <paramref name="tensor"/> with images as <paramref name="image"/> says; returns these options.</summary>
    public TensorRtOptions WithImage(string tensor, ImageInputOptions image)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(tensor);
        ArgumentNullException.ThrowIfNull(image);
        (ImageInputs ??= new Dictionary<string, ImageInputOptions>())[tensor] = image;
        return this;
    }

    // ---- batching and concurrency ----

    /// <summary>
    /// For models exported with their batch fixed at 1 (such as the ResNet-18 of ML.NET's
    /// DnnImageFeaturizer package): open the leading dimension so rows run in batches. Fitting checks
    /// that every output still grows with the batch (a reshape baked to 1 fails there, naming the
    /// output); compare the outputs with <c>TensorRtTransformer.CheckParity</c> before relying on it.
    /// </summary>
    public bool OpenBatchDimension { get; set; }

    /// <summary>Rows per batch. A model with a fixed batch dimension runs at that size whatever this says.</summary>
    public int BatchSize { get; set; } = DefaultBatchSize;

    /// <summary>
    /// Smaller batch sizes a short batch is padded up to, instead of up to <see cref="BatchSize"/>, on an
    /// engine that must be tuned for each input shape (ONNX Runtime CUDA with cuDNN's algorithm search, on a
    /// model with convolutions: each size gets a session of its own, tuned at fit, with its own weights and
    /// memory arena on the device).
    /// Serving wants them: its batches are as large as the requests waiting, and one request padded to a
    /// batch of 64 costs a batch of 64. Batch jobs, whose batches are full but for the last, do not.
    /// Null or empty: pad to BatchSize. Engines that run any batch at its own size (TensorRT, the CPU)
    /// do that whatever this says, and a model that fixes its batch dimension ignores it (said in the log).
    /// Each must be between 1 and BatchSize.
    /// </summary>
    public int[]? BatchBuckets { get; set; }

    /// <summary>1, 2, 4, ... below <paramref name="batchSize"/>: the buckets a server wants (and what a prediction pool loads models with).</summary>
    public static int[] PowerOfTwoBuckets(int batchSize)
    {
        var buckets = new List<int>();
        for (var size = 1; size < batchSize; size *= 2)
            buckets.Add(size);
        return [.. buckets];
    }

    public TensorRtBackend Backend { get; set; } = TensorRtBackend.Auto;

    /// <summary>
    /// Lanes: how many batches may be in flight on the device at once (each lane is a worker with a
    /// stream and its own IO buffers). Lanes belong to the device, not to one model: every model on a
    /// device shares them, and the device has as many as the model that asks for most. At least 2 lets
    /// one batch's copies overlap another's compute. On the CPU, lanes share the cores.
    /// </summary>
    public int Lanes { get; set; } = 2;

    /// <summary>
    /// Batches a cursor reads and sends to the device ahead of the one it is serving. With 2 (the
    /// default), reading the source for one batch overlaps the device's work on two. One more than the
    /// lanes, so a lane that finishes finds a batch queued, was measured and is slower: on the H200 the
    /// image job with 2 lanes scored 4,610 images/s reading 2 ahead, 4,371 reading 3 and 4,165 reading 4
    /// (docs/benchmarks.md). Each batch read ahead holds one more batch of pinned staging per cursor.
    /// </summary>
    public int ReadAheadBatches { get; set; } = 2;

    /// <summary>
    /// On a GPU, run one batch of zeros on every lane at once when fitting, so that the first batches scored
    /// cost what later ones do: what a lane pays on its first execution (on ONNX Runtime's CUDA provider a
    /// ResNet-50 batch took 64-95 ms there against 17 later; its per-thread handles and the memory executions in
    /// flight together need are the likely parts, not taken apart) and the pinned staging a cursor uses are
    /// paid at fit. On the H200 the image job's first scored row came 0.24-0.36 s after the start without
    /// it and 0.08-0.11 s with it (docs/benchmarks.md, "Ninth session"). It costs fit one batch per lane, and
    /// the memory of executions in flight is taken at fit rather than later (about 1.1 GiB a lane for
    /// ResNet-50 at batch 32 on ONNX Runtime's CUDA provider). False keeps fitting light (to save a model, say).
    /// </summary>
    public bool WarmUpLanes { get; set; } = true;

    /// <summary>
    /// Execution contexts per engine (per optimization profile you give); null means one per lane. On
    /// TensorRT with dynamic shapes each context needs a profile of its own, so the engine is built with
    /// your profiles repeated this many times.
    /// </summary>
    public int? ContextsPerEngine { get; set; }

    /// <summary>
    /// Whether contexts take their scratch from the device's shared arena (the default) or each keep
    /// their own, as TensorRT's default allocation does. Off is for comparison: it costs more memory.
    /// </summary>
    public bool ShareScratch { get; set; } = true;

    /// <summary>
    /// Scratch slabs in the shared arena; null means one per lane. Fewer slabs than lanes saves memory
    /// while copies still overlap compute: executions then wait for a slab on the device.
    /// </summary>
    public int? ScratchSlabs { get; set; }

    // ---- engines (TensorRT and ONNX Runtime's TensorRT provider) ----

    /// <summary>
    /// Where the options that decide how an engine is built are kept (the properties that read and write it):
    /// the record the backends and the engine cache read, so fit adds the shapes to it instead of copying each
    /// option across. Its defaults are these options' defaults.
    /// </summary>
    internal EngineBuildOptions Build { get; private set; } = new();

    /// <summary>A prebuilt TensorRT plan to load instead of building one from <see cref="ModelFile"/>.</summary>
    [JsonIgnore]
    public string? EngineFile { get; set; }

    /// <summary>
    /// The precision to run at. On ONNX Runtime CUDA (and TensorRT 11, which takes its precision from the
    /// model) FP16 and BF16 rewrite the model at fit: weights converted, casts at the edges so columns stay
    /// float, ops unsafe in half kept in FP32 (<see cref="KeepFp32OpTypes"/> adds more); on TensorRT 10 and
    /// ONNX Runtime's TensorRT provider they are the builder's flags. On the CPU the model runs as it is.
    /// </summary>
    public TensorRtPrecision Precision { get => Build.Precision; set => Build = Build with { Precision = value }; }

    /// <summary>
    /// Op types to keep in FP32 when the model is rewritten for FP16 or BF16, beyond the documented
    /// default list (docs/precision.md), for ops that lose too much in half precision in your model.
    /// </summary>
    public string[]? KeepFp32OpTypes { get; set; }

    /// <summary>
    /// Whether FP32 matrix math may use TF32 tensor cores on GPUs that have them (TensorRT's kTF32 and
    /// ONNX Runtime CUDA's use_tf32, both on by default): much faster, with about 1e-3 relative error.
    /// Turn it off to match the CPU to fp32 precision.
    /// </summary>
    public bool AllowTf32 { get => Build.AllowTf32; set => Build = Build with { AllowTf32 = value }; }

    /// <summary>Limit of the builder's workspace pool (setMemoryPoolLimit(kWORKSPACE)); null is TensorRT's default.</summary>
    public long? WorkspaceBytes { get => Build.WorkspaceBytes; set => Build = Build with { WorkspaceBytes = value }; }

    public TensorRtTacticSources EnableTactics { get => Build.EnableTactics; set => Build = Build with { EnableTactics = value }; }

    public TensorRtTacticSources DisableTactics { get => Build.DisableTactics; set => Build = Build with { DisableTactics = value }; }

    /// <summary>Builder optimization level, 0 to 5; null is TensorRT's default (3).</summary>
    public int? BuilderOptimizationLevel { get => Build.BuilderOptimizationLevel; set => Build = Build with { BuilderOptimizationLevel = value }; }

    /// <summary>Most auxiliary streams an engine may use; null lets TensorRT decide, 0 uses the least memory.</summary>
    public int? MaxAuxStreams { get => Build.MaxAuxStreams; set => Build = Build with { MaxAuxStreams = value }; }

    /// <summary>
    /// Optimization profiles. Null: one profile from batch 1 up to <see cref="BatchSize"/>, optimal at
    /// <see cref="BatchSize"/>, with every other dimension as the columns fix it.
    /// </summary>
    [JsonIgnore]
    public IList<TensorRtProfile>? Profiles { get; set; }

    /// <summary>
    /// Where built engines are cached; null is a folder per user (LocalApplicationData/trtmlnet/engines:
    /// ~/.local/share/trtmlnet/engines on Linux, %LOCALAPPDATA%\trtmlnet\engines on Windows).
    /// </summary>
    [JsonIgnore]
    public string? EngineCacheDirectory { get; set; }

    /// <summary>A timing cache file to start builds from and update; null for none.</summary>
    [JsonIgnore]
    public string? TimingCacheFile { get => Build.TimingCacheFile; set => Build = Build with { TimingCacheFile = value }; }

    /// <summary>
    /// Replay each batch as a captured CUDA graph: one launch instead of one per kernel. ONNX Runtime
    /// CUDA captures one graph per lane for full batches (a last, shorter batch runs uncaptured); ONNX
    /// Runtime's TensorRT provider takes trt_cuda_graph_enable. A model ONNX Runtime cannot capture
    /// (nodes left on the CPU) runs uncaptured, with a warning.
    /// </summary>
    public bool CudaGraphs { get => Build.CudaGraphs; set => Build = Build with { CudaGraphs = value }; }

    // ---- ONNX Runtime CUDA ----

    /// <summary>
    /// Run convolutions in NHWC (channels-last) layout, as cuDNN's fastest tensor-core kernels and
    /// PyTorch's channels_last do (ONNX Runtime CUDA's prefer_nhwc). It changes nothing for models
    /// without convolutions. On by default: measured faster on ResNet-50 (docs/benchmarks.md).
    /// </summary>
    public bool PreferNhwc { get => Build.PreferNhwc; set => Build = Build with { PreferNhwc = value }; }

    /// <summary>
    /// ONNX Runtime (CUDA and CPU): at fit, put ONNX Runtime's fused transformer ops in place of what
    /// torch.onnx writes for them, before any precision rewrite, cached like the precision rewrite: each
    /// attention block (MatMul, scale, additive mask, Softmax, MatMul) becomes one com.microsoft
    /// MultiHeadAttention, and each residual add before a layer norm one SkipLayerNormalization. What does
    /// not match exactly is left as it is (the log says what was fused). On by default: on the H200, BERT-base
    /// in FP16 at batch 128 went from 10,567 to 15,177 rows/s with it, with the same outputs within FP16's
    /// tolerance (a GPU test checks that parity); a model with nothing to fuse runs as it is. TensorRT
    /// ignores it (it fuses these itself); CheckParity compares against the model as written.
    /// docs/precision.md says what it matches.
    /// </summary>
    public bool FuseTransformerOps { get => Build.FuseTransformerOps; set => Build = Build with { FuseTransformerOps = value }; }

    /// <summary>How cuDNN picks each convolution's algorithm (ONNX Runtime CUDA's cudnn_conv_algo_search).</summary>
    public CudnnConvolutionSearch ConvolutionSearch { get => Build.ConvolutionSearch; set => Build = Build with { ConvolutionSearch = value }; }

    /// <summary>Let cuDNN's algorithm search use as much workspace as the fastest algorithm wants (cudnn_conv_use_max_workspace).</summary>
    public bool CudnnMaxWorkspace { get => Build.CudnnMaxWorkspace; set => Build = Build with { CudnnMaxWorkspace = value }; }

    // ---- ONNX Runtime ----

    /// <summary>
    /// Threads ONNX Runtime uses inside one CPU execution; null shares the cores among the lanes
    /// (cores / <see cref="Lanes"/>), since lanes run at once.
    /// </summary>
    public int? IntraOpThreads { get; set; }

    /// <summary>
    /// Checks every option once, where the options enter (ApplyTensorRt, and loading a saved model),
    /// so nothing is clamped or re-checked later. Errors name the option and say what it takes.
    /// </summary>
    internal void Validate()
    {
        static void AtLeast(string name, long? value, long minimum)
        {
            if (value < minimum)
                throw new ArgumentOutOfRangeException(name, value, $"TensorRtOptions.{name} must be at least {minimum}; it is {value}.");
        }
        AtLeast(nameof(BatchSize), BatchSize, 1);
        AtLeast(nameof(Lanes), Lanes, 1);
        if (BatchBuckets is { } buckets && buckets.Any(b => b < 1 || b > BatchSize))
            throw new ArgumentOutOfRangeException(nameof(BatchBuckets), string.Join(", ", buckets),
                $"TensorRtOptions.BatchBuckets must each be between 1 and BatchSize ({BatchSize}).");
        AtLeast(nameof(ReadAheadBatches), ReadAheadBatches, 1);
        AtLeast(nameof(ContextsPerEngine), ContextsPerEngine, 1);
        AtLeast(nameof(ScratchSlabs), ScratchSlabs, 1);
        AtLeast(nameof(IntraOpThreads), IntraOpThreads, 1);
        AtLeast(nameof(WorkspaceBytes), WorkspaceBytes, 0);
        AtLeast(nameof(MaxAuxStreams), MaxAuxStreams, 0);
        AtLeast(nameof(DeviceId), DeviceId, 0);
        if (BuilderOptimizationLevel is < 0 or > 5)
            throw new ArgumentOutOfRangeException(nameof(BuilderOptimizationLevel), BuilderOptimizationLevel,
                $"TensorRtOptions.BuilderOptimizationLevel must be between 0 and 5 (TensorRT's default is 3); it is {BuilderOptimizationLevel}.");
        var both = EnableTactics & DisableTactics;
        if (both != TensorRtTacticSources.None)
            throw new ArgumentException($"TensorRtOptions: tactic sources {both} are both enabled and disabled.", nameof(EnableTactics));
        if (!Enum.IsDefined(Backend))
            throw new ArgumentOutOfRangeException(nameof(Backend), Backend, "TensorRtOptions.Backend is not a TensorRtBackend.");
        if (!Enum.IsDefined(ConvolutionSearch))
            throw new ArgumentOutOfRangeException(nameof(ConvolutionSearch), ConvolutionSearch, "TensorRtOptions.ConvolutionSearch is not a CudnnConvolutionSearch.");
        if (!Enum.IsDefined(Precision))
            throw new ArgumentOutOfRangeException(nameof(Precision), Precision, "TensorRtOptions.Precision is not a TensorRtPrecision.");
    }

    internal TensorRtOptions Clone()
    {
        var copy = (TensorRtOptions)MemberwiseClone();
        copy.InputColumns = InputColumns?.ToArray();
        copy.OutputColumns = OutputColumns?.ToArray();
        copy.KeepFp32OpTypes = KeepFp32OpTypes?.ToArray();
        copy.BatchBuckets = BatchBuckets?.ToArray();
        copy.ShapeDictionary = ShapeDictionary?.ToDictionary(p => p.Key, p => p.Value.ToArray());
        copy.Profiles = Profiles?.ToList();
        copy.ImageInputs = ImageInputs?.ToDictionary(p => p.Key, p => p.Value);
        return copy;
    }
}

/// <summary>One optimization profile: per input tensor, the smallest, the best and the largest shape it accepts.</summary>
public sealed class TensorRtProfile
{
    public IDictionary<string, (int[] Min, int[] Opt, int[] Max)> Shapes { get; } = new Dictionary<string, (int[], int[], int[])>();

    public TensorRtProfile Add(string tensor, int[] min, int[] opt, int[] max)
    {
        Shapes[tensor] = (min, opt, max);
        return this;
    }
}
