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

    /// <summary>
    /// The batch sizes scoring pads a shorter batch up to, ascending, the full batch last
    /// (<see cref="TensorRtOptions.BatchBuckets"/> and BatchSize). An engine that tunes per shape gets
    /// ready for each; with CUDA graphs, batches of these sizes are captured (others run uncaptured).
    /// </summary>
    public IReadOnlyList<int> BatchSizes { get; init; } = [1];

    public int FullBatchRows => BatchSizes[^1];

    /// <summary>The device the engine goes on.</summary>
    public ComputeDevice ComputeDevice() => Backend == TensorRtBackend.OnnxRuntimeCpu ? Device.ComputeDevice.Cpu : Device.ComputeDevice.Gpu(DeviceId);
}
