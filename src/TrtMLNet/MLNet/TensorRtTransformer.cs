using Microsoft.ML;
using Microsoft.ML.Data;
using TrtMLNet.Backends;
using TrtMLNet.Execution;
using TrtMLNet.Scoring;

namespace TrtMLNet;

/// <summary>
/// A fitted <c>ApplyTensorRt</c> stage: an engine on its device's pool, scoring rows in batches. Input
/// columns pass through; one vector column per model output is appended. Dispose it (or the model
/// holding it) to give the device memory back; cursors still open when it is disposed finish first.
/// </summary>
public sealed class TensorRtTransformer : ITransformer, IDisposable
{
    private int _disposed;

    internal TensorRtTransformer(TensorRtOptions options, ModelSource model, FittedModel fitted)
    {
        Options = options;
        Model = model;
        Fitted = fitted;
    }

    /// <summary>The backend the engine runs on (never Auto).</summary>
    public TensorRtBackend Backend => Fitted.Runtime.Engine.Backend;

    /// <summary>Where the engine runs, in words, e.g. "ONNX Runtime CUDA on GPU 0 (NVIDIA H100 80GB HBM3)".</summary>
    public string BackendDescription => Fitted.Runtime.Engine.Description;

    /// <summary>
    /// The faster backends that could not be used here, each with its reason and what to install (empty
    /// when the one asked for runs). The same text goes to MLContext.Log as a warning.
    /// </summary>
    public IReadOnlyList<SkippedBackend> SkippedBackends => Fitted.SkippedBackends;

    /// <summary>
    /// Images that could not be decoded and were scored as zeros, in row order, when an image input's
    /// <see cref="ImageInputOptions.OnBadImage"/> is <see cref="BadImagePolicy.Skip"/>: their rows' outputs are not to be trusted.
    /// </summary>
    public IReadOnlyList<SkippedImage> SkippedImages => Fitted.SkippedImages;

    /// <summary>How many images <see cref="SkippedImages"/> holds, without copying them: cheap enough to poll per row.</summary>
    public int SkippedImageCount => Fitted.SkippedImageCount;

    /// <summary>Rows per batch (the model's own when it fixes its batch dimension).</summary>
    public int BatchSize => Fitted.Shapes.BatchSize;

    /// <summary>
    /// The sizes every batch runs at, ascending, <see cref="BatchSize"/> last: a shorter batch is padded to
    /// the smallest that holds it (<see cref="TensorRtOptions.BatchBuckets"/>). Null when a batch runs at
    /// its own size.
    /// </summary>
    public IReadOnlyList<int>? PaddedBatchSizes => Fitted.PaddedBatchSizes;

    public IReadOnlyList<string> InputColumnNames => Fitted.Shapes.Inputs.Select(i => i.Column).ToList();

    public IReadOnlyList<string> OutputColumnNames => Fitted.Shapes.Outputs.Select(o => o.Tensor.Name).ToList();

    internal TensorRtOptions Options { get; }

    internal ModelSource Model { get; }

    internal FittedModel Fitted { get; }

    bool ITransformer.IsRowToRowMapper => true;

    /// <summary>Fits <paramref name="options"/> (validated by the caller) to the input columns, whose types <paramref name="columnType"/> gives (null: missing).</summary>
    internal static TensorRtTransformer Create(HostEnvironment env, TensorRtOptions options, ModelSource model, Func<string, DataViewType?> columnType) =>
        new(options, model, ModelFitter.Fit(options, model, columnType, env.ToFitEnvironment()));

    /// <summary>The input schema with the model's outputs appended; checks the columns still match what was fitted.</summary>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        CheckColumns(inputSchema);
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        foreach (var output in Fitted.Shapes.Outputs)
            builder.AddColumn(output.Tensor.Name, output.ColumnType);
        return builder.ToSchema();
    }

    /// <summary>
    /// Checks that <paramref name="schema"/> has every input column, with the type and size the engine
    /// was fitted for (an engine is built for those shapes).
    /// </summary>
    internal void CheckColumns(DataViewSchema schema)
    {
        var fitted = Fitted.Shapes;
        var now = ModelShapes.Bind(fitted.Inputs.Select(i => i.Tensor).ToList(), fitted.Inputs.Select(i => i.Tensor.Name).ToList(),
            name => schema.GetColumnOrNull(name)?.Type, Options.ShapeDictionary, Options.BatchSize, Model.Name, Options.ImageInputs);
        foreach (var (a, b) in fitted.Inputs.Zip(now.Inputs))
        {
            if (!a.RowShape.SequenceEqual(b.RowShape))
                throw new ArgumentException(
                    $"Input column '{a.Column}' now gives rows of shape {TensorInfo.FormatShape(b.RowShape)}, but the transformer was fitted for " +
                        $"{TensorInfo.FormatShape(a.RowShape)}: fit it again on data of this shape.");
        }
    }

    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new TensorRtDataView(this, input);
    }

    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => new TensorRtRowMapper(this, inputSchema);

    void ICanSaveModel.Save(ModelSaveContext ctx) => ModelPersistence.Save(this, ctx);

    /// <summary>
    /// Where the device memory goes: weights per engine, persistent memory per context, scratch per
    /// slab, IO buffers per lane, pinned staging, the total with sharing and without, and what the
    /// driver says is taken.
    /// </summary>
    public MemoryReport GetMemoryReport() => Fitted.MemoryReport();

    /// <summary>
    /// Lends an idle scratch slab of the device's arena to your code; see <see cref="ScratchLoan"/>. With
    /// <paramref name="cudaStream"/>, that stream waits until the slab's last execution has finished;
    /// without, this call waits on the host.
    /// </summary>
    public ScratchLoan BorrowScratch(long minimumBytes, IntPtr cudaStream = default) => Fitted.BorrowScratch(minimumBytes, cudaStream);

    /// <summary>
    /// Gives back device memory this device's pool holds beyond what its models need now: scratch slabs
    /// grown for an engine since disposed, and staging buffers no cursor holds. The pool only ever grows
    /// on its own (between batches), so this is the way to shrink it while models stay loaded.
    /// </summary>
    public void TrimMemory() => Fitted.TrimMemory();

    /// <summary>
    /// Scores the first <paramref name="rows"/> rows of <paramref name="data"/> here and on a reference
    /// backend (ONNX Runtime on the CPU, FP32, unless told otherwise), and compares every output: by its
    /// relative L2 error, each row's cosine similarity, and, at full FP32, value by value.
    /// </summary>
    /// <param name="data">Rows to score; the first <paramref name="rows"/> are used.</param>
    /// <param name="rows">How many rows to compare.</param>
    /// <param name="tolerance">
    /// What to accept; null takes <see cref="ParityTolerance.For(TensorRtPrecision, bool, bool)"/> for the precision, TF32 setting
    /// and image decoder that run here.
    /// </param>
    /// <param name="reference">The backend to compare with.</param>
    public ParityReport CheckParity(IDataView data, int rows = 64, ParityTolerance? tolerance = null, TensorRtBackend reference = TensorRtBackend.OnnxRuntimeCpu) =>
        ParityCheck.Run(this, data, rows, tolerance, reference);

    /// <summary>
    /// As <see cref="CheckParity(IDataView, int, ParityTolerance?, TensorRtBackend)"/>, judging value by value too:
    /// |actual − expected| ≤ <paramref name="absoluteTolerance"/> + <paramref name="relativeTolerance"/> × |expected|, as given.
    /// </summary>
    public ParityReport CheckParity(IDataView data, int rows, double relativeTolerance, double absoluteTolerance, TensorRtBackend reference = TensorRtBackend.OnnxRuntimeCpu) =>
        ParityCheck.Run(this, data, rows,
            ParityCheck.DefaultTolerance(this) with { Relative = relativeTolerance, Absolute = absoluteTolerance, AbsoluteInRowUnits = false }, reference);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
            Fitted.Runtime.Close();
    }
}
