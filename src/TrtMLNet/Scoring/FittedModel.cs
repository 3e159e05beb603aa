using TrtMLNet.Backends;
using TrtMLNet.Execution;

namespace TrtMLNet.Scoring;

/// <summary>
/// A model fitted to its columns and placed on its device: its shapes, its runtime on the device's
/// pool, and the layout of one batch (<see cref="BatchLayout"/>). Cursors and row mappers make
/// scoring sessions over it.
/// </summary>
internal sealed class FittedModel
{
    private readonly Dictionary<long, IReadOnlyList<int>> _profilesByRows = [];

    public FittedModel(ModelShapes shapes, ModelRuntime runtime, int readAheadBatches, Action<string> warn)
    {
        ReadAheadBatches = readAheadBatches;
        Shapes = shapes;
        Runtime = runtime;
        Warn = warn;
        Layout = LayoutOf(shapes);
        PaddedBatchSizes = shapes.BatchKind == BatchKind.Fixed ? [shapes.BatchSize] : runtime.Engine.TunedBatchSizes;
    }

    public ModelShapes Shapes { get; }

    public ModelRuntime Runtime { get; }

    public BatchLayout Layout { get; }

    /// <summary>Per-row arrays of large inputs, kept between cursors.</summary>
    public RowBufferPool RowBuffers { get; } = new();

    /// <summary>Where warnings go: the MLContext's log.</summary>
    public Action<string> Warn { get; }

    private readonly IReadOnlyDictionary<int, ImageInputRuntime> _imageInputs = new Dictionary<int, ImageInputRuntime>();

    // The same runtimes as an array: SkippedImageCount is polled per row, and must not allocate.
    private readonly ImageInputRuntime[] _imageRuntimes = [];

    /// <summary>The image inputs, by input index: what decodes them.</summary>
    public IReadOnlyDictionary<int, ImageInputRuntime> ImageInputs
    {
        get => _imageInputs;
        init
        {
            _imageInputs = value;
            _imageRuntimes = [.. value.Values];
        }
    }

    /// <summary>Images skipped as bad so far, every image input together.</summary>
    public IReadOnlyList<SkippedImage> SkippedImages => [.. _imageRuntimes.SelectMany(i => i.Skipped).OrderBy(s => s.Row)];

    public int SkippedImageCount
    {
        get
        {
            var count = 0;
            foreach (var runtime in _imageRuntimes)
                count += runtime.SkippedCount;
            return count;
        }
    }

    /// <summary>The precision the engine runs at: FP32 on the CPU whatever was asked.</summary>
    public TensorRtPrecision Precision { get; init; }

    /// <summary>The backends passed over when the engine was made, with their reasons.</summary>
    public IReadOnlyList<SkippedBackend> SkippedBackends { get; init; } = [];

    /// <summary>Batches each cursor keeps in flight ahead of the one it serves.</summary>
    public int ReadAheadBatches { get; }

    /// <summary>Measure every batch's stages and report them here (benchmarks; costs a few events per batch).</summary>
    internal Action<BatchTimings, int>? BatchTimed { get; set; }

    /// <summary>Whether batches are timed now: for the benchmark's hook, or for a listener of <see cref="TensorRtMetrics"/>.</summary>
    public bool TimesBatches => BatchTimed is not null || BatchMetrics.Enabled;

    /// <summary>
    /// The rows a batch of <paramref name="rows"/> runs as: the full batch when the model fixes it; the
    /// smallest size that holds them when the engine is tuned for fixed sizes (the padding rows hold
    /// whatever the buffers held, and their outputs are never read); otherwise the rows themselves.
    /// </summary>
    public int RunRows(int rows) => PaddedBatchSizes is { } sizes ? sizes.FirstOrDefault(s => s >= rows, Shapes.BatchSize) : rows;

    /// <summary>The sizes batches are padded to, the full batch last; null when they run at their own size.</summary>
    public IReadOnlyList<int>? PaddedBatchSizes { get; }

    public static BatchLayout LayoutOf(ModelShapes shapes) => new(
        shapes.Inputs.Select(i => i.RowBytes * shapes.BatchSize),
        shapes.Outputs.Select(o => o.RowBytes * shapes.BatchSize));

    public MemoryReport MemoryReport() => MemoryReportBuilder.Create(Runtime.Pool);

    public void TrimMemory()
    {
        var pool = Runtime.Pool;
        pool.Device.MakeCurrent();
        pool.Arena.Trim();
        pool.Staging.Trim();
    }

    public ScratchLoan BorrowScratch(long minimumBytes, IntPtr cudaStream) => Runtime.Pool.BorrowScratch(minimumBytes, cudaStream);

    /// <summary>Points the job at its staging for a batch of <paramref name="rows"/> rows, computing only the active outputs.</summary>
    public void Prepare(BatchJob job, int rows, bool[] activeOutputs)
    {
        long run = RunRows(rows);
        var inputs = new BatchTensor[Shapes.Inputs.Count];
        for (var i = 0; i < inputs.Length; i++)
        {
            var input = Shapes.Inputs[i];
            inputs[i] = new BatchTensor(input.Tensor.Name, input.Tensor.ElementType, ModelShapes.WithBatch(input.Tensor, input.RowShape, run),
                Layout.InputOffsets[i], input.RowBytes * run);
        }
        var outputs = new List<BatchTensor>();
        for (var o = 0; o < Shapes.Outputs.Count; o++)
        {
            if (!activeOutputs[o]) continue;
            var output = Shapes.Outputs[o];
            outputs.Add(new BatchTensor(output.Tensor.Name, output.Tensor.ElementType, ModelShapes.WithBatch(output.Tensor, output.RowShape, run),
                Layout.OutputOffsets[o], output.RowBytes * run));
        }
        job.Inputs = inputs;
        job.Outputs = [.. outputs];
        job.Profiles = ProfilesFor(run, inputs);
    }

    /// <summary>The optimization profiles that accept a batch of this many rows (the shapes differ only in rows).</summary>
    private IReadOnlyList<int> ProfilesFor(long rows, BatchTensor[] inputs)
    {
        lock (_profilesByRows)
        {
            if (_profilesByRows.TryGetValue(rows, out var known))
                return known;
            var shapes = inputs.ToDictionary(t => t.Name, t => t.Shape);
            var accepting = Runtime.Engine.Profiles.Where(p => p.Accepts(shapes)).Select(p => p.Index).ToArray();
            if (accepting.Length == 0)
                throw new InvalidOperationException(
                    $"No optimization profile of {Runtime.Engine.Description} accepts the batch shapes " +
                        $"{string.Join(", ", shapes.Select(s => $"{s.Key}{TensorInfo.FormatShape(s.Value)}"))}.");
            return _profilesByRows[rows] = accepting;
        }
    }
}
