using TrtMLNet.Device;

namespace TrtMLNet.Backends;

/// <summary>What a backend needs to load or build an engine: where, how it will be used, and how to build it.</summary>
internal sealed record EngineOptions
{
    /// <summary>A concrete backend (never Auto: selection has happened).</summary>
    public required TensorRtBackend Backend { get; init; }

    /// <summary>CUDA ordinal; ignored by the CPU backend.</summary>
    public int DeviceId { get; init; }

    public int? IntraOpThreads { get; init; }

    /// <summary>Contexts that may run at once (the lanes): on TensorRT with dynamic shapes each needs its own profile.</summary>
    public int ConcurrentContexts { get; init; } = 1;

    /// <summary>Whether contexts should share scratch (ONNX Runtime's TensorRT provider: trt_context_memory_sharing_enable).</summary>
    public bool ShareScratch { get; init; } = true;

    /// <summary>A prebuilt TensorRT plan to load instead of building one (TensorRT backend only).</summary>
    public string? EngineFile { get; init; }

    /// <summary>Where built TensorRT engines are cached; null is the user's cache folder.</summary>
    public string? EngineCacheDirectory { get; init; }

    public EngineBuildOptions Build { get; init; } = new();

    /// <summary>The rows of a full batch: with CUDA graphs, the batches that are captured (others run uncaptured).</summary>
    public int FullBatchRows { get; init; }

    /// <summary>
    /// Symbolic dimensions of the inputs, by name, at their size in a full batch. An engine that only ever runs
    /// full batches (ONNX Runtime CUDA with a cuDNN search: <see cref="IInferenceEngine.TunesPerShape"/>) fixes
    /// them, so the graph's shape arithmetic folds into constants: no host copies mid-graph, and fusions that
    /// need static shapes apply. Empty: nothing is fixed.
    /// </summary>
    public IReadOnlyDictionary<string, long> FullBatchDimensions { get; init; } = new Dictionary<string, long>();

    /// <summary>
    /// The named dimensions of <paramref name="inputs"/> at the sizes of <paramref name="shapes"/> (full shapes by
    /// input name); a name that two inputs give different sizes is left out.
    /// </summary>
    public static IReadOnlyDictionary<string, long> NamedDimensions(IEnumerable<TensorInfo> inputs, IReadOnlyDictionary<string, long[]> shapes)
    {
        var sizes = new Dictionary<string, long>(StringComparer.Ordinal);
        var conflicting = new HashSet<string>(StringComparer.Ordinal);
        foreach (var input in inputs)
        {
            if (!shapes.TryGetValue(input.Name, out var shape) || shape.Length != input.DimNames.Length)
                continue;
            for (var i = 0; i < shape.Length; i++)
            {
                if (input.DimNames[i] is not { } name)
                    continue;
                if (sizes.TryGetValue(name, out var size) && size != shape[i])
                    conflicting.Add(name);
                sizes[name] = shape[i];
            }
        }
        foreach (var name in conflicting)
            sizes.Remove(name);
        return sizes;
    }

    /// <summary>The device the engine goes on.</summary>
    public ComputeDevice ComputeDevice() => Backend == TensorRtBackend.OnnxRuntimeCpu ? Device.ComputeDevice.Cpu : Device.ComputeDevice.Gpu(DeviceId);
}
