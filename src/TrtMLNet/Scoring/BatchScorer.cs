using TrtMLNet.Backends;
using TrtMLNet.Execution;

namespace TrtMLNet.Scoring;

/// <summary>
/// A fitted model ready to score batches: its shapes, its runtime on the device pool, and the layout
/// of one batch in staging memory (inputs, then outputs, each 256-byte aligned). Cursors and row
/// mappers ask it for staging slots and jobs.
/// </summary>
internal sealed class BatchScorer
{
    private readonly long[] _inputOffsets;
    private readonly long[] _outputOffsets;

    public BatchScorer(ModelShapes shapes, ModelRuntime runtime, int readAheadBatches = 2)
    {
        ReadAheadBatches = readAheadBatches;
        Shapes = shapes;
        Runtime = runtime;
        long offset = 0;
        _inputOffsets = shapes.Inputs.Select(i => Advance(ref offset, i.RowBytes * shapes.BatchSize)).ToArray();
        _outputOffsets = shapes.Outputs.Select(o => Advance(ref offset, o.RowBytes * shapes.BatchSize)).ToArray();
        SlotBytes = offset;
    }

    public ModelShapes Shapes { get; }

    /// <summary>The backends passed over when the engine was made, with their reasons.</summary>
    public IReadOnlyList<SkippedBackend> SkippedBackends { get; init; } = [];

    /// <summary>Batches each cursor keeps in flight ahead of the one it serves.</summary>
    public int ReadAheadBatches { get; }

    /// <summary>Measure every batch's stages and report them here (benchmarks; costs a few events per batch).</summary>
    internal Action<BatchTimings, int>? BatchTimed { get; set; }

    public ModelRuntime Runtime { get; }

    /// <summary>Staging bytes one batch takes; also what a lane needs for its device IO buffers.</summary>
    public long SlotBytes { get; }

    /// <summary>Device IO bytes a lane needs for one batch: the staging layout, inputs and outputs.</summary>
    public static long IoBytes(ModelShapes shapes) =>
        shapes.Inputs.Sum(i => Lane.AlignUp(i.RowBytes * shapes.BatchSize)) + shapes.Outputs.Sum(o => Lane.AlignUp(o.RowBytes * shapes.BatchSize));

    private static long Advance(ref long offset, long bytes)
    {
        var at = offset;
        offset += Lane.AlignUp(bytes);
        return at;
    }

    public long InputOffset(int input) => _inputOffsets[input];

    public MemoryReport MemoryReport() => Execution.MemoryReport.Create(Runtime.Pool);

    public void TrimMemory()
    {
        var pool = Runtime.Pool;
        pool.Device.MakeCurrent();
        pool.Arena.Trim();
        pool.Staging.Trim();
    }

    public ScratchLoan BorrowScratch(long minimumBytes, IntPtr cudaStream)
    {
        var pool = Runtime.Pool;
        pool.Device.MakeCurrent();
        return pool.Arena.Borrow(minimumBytes, cudaStream == IntPtr.Zero ? null : new ExternalCudaStream(cudaStream));
    }

    public long OutputOffset(int output) => _outputOffsets[output];

    /// <summary>
    /// Points the job at a slot's staging for a batch of <paramref name="rows"/> rows. A model with a
    /// fixed batch runs its full batch every time (the caller has padded the inputs).
    /// </summary>
    public void Prepare(BatchJob job, NativeBuffer staging, int rows, bool[] activeOutputs)
    {
        long run = Shapes.BatchKind == BatchKind.Fixed ? Shapes.BatchSize : rows;
        var inputs = new TensorBuffer[Shapes.Inputs.Count];
        for (var i = 0; i < inputs.Length; i++)
        {
            var input = Shapes.Inputs[i];
            inputs[i] = new TensorBuffer(input.Tensor.Name, input.Tensor.ElementType, ModelShapes.WithBatch(input.Tensor, input.RowShape, run),
                staging.Pointer + (nint)_inputOffsets[i], input.RowBytes * run);
        }
        var outputs = new List<TensorBuffer>();
        for (var o = 0; o < Shapes.Outputs.Count; o++)
        {
            if (!activeOutputs[o]) continue;
            var output = Shapes.Outputs[o];
            outputs.Add(new TensorBuffer(output.Tensor.Name, output.Tensor.ElementType, ModelShapes.WithBatch(output.Tensor, output.RowShape, run),
                staging.Pointer + (nint)_outputOffsets[o], output.RowBytes * run));
        }
        job.Inputs = inputs;
        job.Outputs = [.. outputs];
        job.Profile = ChooseProfile(inputs);
    }

    private int ChooseProfile(TensorBuffer[] inputs)
    {
        var profiles = Runtime.Engine.Profiles;
        if (profiles.Count == 1)
            return profiles[0].Index;
        var shapes = inputs.ToDictionary(t => t.Name, t => t.Shape);
        return profiles.FirstOrDefault(p => p.Accepts(shapes))?.Index
            ?? throw new InvalidOperationException(
                $"No optimization profile of {Runtime.Engine.Description} accepts the batch shapes {string.Join(", ", shapes.Select(s => $"{s.Key}{TensorInfo.FormatShape(s.Value)}"))}.");
    }
}
