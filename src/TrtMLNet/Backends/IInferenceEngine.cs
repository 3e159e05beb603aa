using TrtMLNet.Device;

namespace TrtMLNet.Backends;

/// <summary>
/// A model loaded by one backend on one device: its weights live here, once. Execution contexts made
/// from it share those weights; each holds its own persistent memory.
/// </summary>
internal interface IInferenceEngine : IDisposable
{
    TensorRtBackend Backend { get; }

    /// <summary>Where the engine runs, for logs and reports, e.g. "ONNX Runtime 1.31 CUDA on GPU 0 (NVIDIA H100)".</summary>
    string Description { get; }

    /// <summary>Where the engine's weights live and its contexts run.</summary>
    ComputeDevice Device { get; }

    IReadOnlyList<TensorInfo> Inputs { get; }

    IReadOnlyList<TensorInfo> Outputs { get; }

    /// <summary>The optimization profiles' shape ranges; a single unbounded profile for backends without them.</summary>
    IReadOnlyList<EngineProfile> Profiles { get; }

    /// <summary>Weights as the backend states them and as measured, each null when not known.</summary>
    EngineWeights Weights { get; }

    /// <summary>
    /// Whether contexts take their scratch (activation) memory from the caller, as TensorRT's
    /// kUSER_MANAGED contexts do. When false the backend manages scratch itself (ONNX Runtime's arena)
    /// and <see cref="ScratchBytes"/> is null.
    /// </summary>
    bool UsesCallerScratch { get; }

    /// <summary>
    /// Whether contexts that run at once must each be on an optimization profile of their own: TensorRT's
    /// rule for engines with dynamic shapes (IExecutionContext, NvInferRuntime.h). The execution layer
    /// then makes one context per profile, and the engine is built with its profiles repeated per context.
    /// </summary>
    bool ContextsNeedOwnProfile { get; }

    /// <summary>
    /// The batch sizes the engine is tuned for, ascending, the full batch last; a batch runs padded to the
    /// smallest that holds it. Null: any batch runs at its own size without tuning again (TensorRT's
    /// profiles, the CPU). ONNX Runtime CUDA needs it because its convolutions keep their cuDNN setup for
    /// the last input shape only (CudnnConvState's last_x_dims in its conv kernels) and redo it, algorithm
    /// search included, whenever the shape changes: on the H200, ResNet-50 served batches of varying size
    /// at 28-87 requests/s where full batches ran at 3,900. So a model with convolutions keeps one shape per
    /// session there; one without (BERT) runs any batch at its own size.
    /// </summary>
    IReadOnlyList<int>? TunedBatchSizes { get; }

    /// <summary>Scratch one execution on a profile needs, as the backend states it; null when not known.</summary>
    long? ScratchBytes(int profile);

    /// <summary>Makes an execution context bound to a profile; setting it up may queue work on <paramref name="stream"/>.</summary>
    IEngineContext CreateContext(int profile, DeviceStream stream);

    /// <summary>
    /// Every output's shape for given input shapes (full shapes, batch included): TensorRT infers them
    /// without running; ONNX Runtime, which offers no shape inference, runs the model once on zeros.
    /// </summary>
    IReadOnlyDictionary<string, long[]> InferOutputShapes(IReadOnlyDictionary<string, long[]> inputShapes);
}

/// <summary>An execution context: runs one batch at a time, on whichever lane leased it.</summary>
internal interface IEngineContext : IDisposable
{
    int Profile { get; }

    /// <summary>Device memory this context holds for its whole life, as measured; null when not known.</summary>
    long? PersistentBytes { get; }

    /// <summary>
    /// Queues one execution on the request's stream. Backends with asynchronous execution (TensorRT)
    /// return once the work is queued; the others return when it is done. Either way the caller keeps
    /// the request's buffers and scratch untouched until the stream's work has completed.
    /// </summary>
    void Enqueue(ExecutionRequest request);
}

/// <summary>A tensor's memory for one execution: host memory on the CPU, device memory on a GPU.</summary>
internal readonly record struct TensorBuffer(string Name, TensorElementType ElementType, long[] Shape, IntPtr Data, long Bytes);

/// <summary>Everything one execution touches.</summary>
internal sealed class ExecutionRequest
{
    public required TensorBuffer[] Inputs { get; init; }

    /// <summary>Only the outputs somebody reads: backends compute no more than these.</summary>
    public required TensorBuffer[] Outputs { get; init; }

    public required DeviceStream Stream { get; init; }

    public IntPtr Scratch { get; init; }

    public long ScratchBytes { get; init; }
}

internal readonly record struct EngineWeights(long? Stated, long? Measured)
{
    public long? Best => Stated ?? Measured;
}

/// <summary>An optimization profile: per input, the smallest, best and largest shape it accepts.</summary>
internal sealed record EngineProfile(int Index, IReadOnlyDictionary<string, (long[] Min, long[] Opt, long[] Max)> Shapes)
{
    public static EngineProfile Unbounded { get; } = new(0, new Dictionary<string, (long[], long[], long[])>());

    /// <summary>Whether every given input shape lies within this profile's bounds.</summary>
    public bool Accepts(IReadOnlyDictionary<string, long[]> inputShapes)
    {
        foreach (var (name, shape) in inputShapes)
        {
            if (!Shapes.TryGetValue(name, out var range))
                continue;
            if (range.Min.Length != shape.Length)
                return false;
            for (var i = 0; i < shape.Length; i++)
                if (shape[i] < range.Min[i] || shape[i] > range.Max[i])
                    return false;
        }
        return true;
    }

    /// <summary>The largest batch (leading dimension) every input's range allows; null when unbounded.</summary>
    public long? MaxBatch => Shapes.Count == 0 ? null : Shapes.Values.Where(r => r.Max.Length > 0).Select(r => r.Max[0]).DefaultIfEmpty(long.MaxValue).Min();
}
