using Microsoft.ML;
using Microsoft.ML.Data;
using TrtMLNet.Backends;

namespace TrtMLNet.Scoring;

/// <summary>How the model's leading (batch) dimension behaves.</summary>
internal enum BatchKind
{
    /// <summary>Open: any number of rows up to the batch size runs at once, the last batch as it is.</summary>
    Dynamic,

    /// <summary>Fixed by the model: every batch has exactly that many rows, the last one padded and trimmed.</summary>
    Fixed,
}

/// <summary>
/// An input tensor and the column that feeds it, with the per-row shape settled at fit time. An image
/// input (<see cref="Image"/>) is fed from a column of paths or encoded bytes, decoded into the tensor.
/// </summary>
internal sealed record InputShape(TensorInfo Tensor, string Column, long[] RowShape)
{
    public ImageInput? Image { get; init; }

    public long RowElements => RowShape.Aggregate(1L, (a, b) => a * b);

    public long RowBytes => RowElements * Tensor.ElementType.Size();
}

/// <summary>An output tensor with its per-row shape, and the ML.NET column type it becomes.</summary>
internal sealed record OutputShape(TensorInfo Tensor, long[] RowShape)
{
    public long RowElements => RowShape.Aggregate(1L, (a, b) => a * b);

    public long RowBytes => RowElements * Tensor.ElementType.Size();

    /// <summary>A vector of known size; a per-row scalar becomes a vector of one, as ApplyOnnxModel makes it.</summary>
    public VectorDataViewType ColumnType =>
        RowShape.Length == 0
            ? new VectorDataViewType(Tensor.ElementType.ToDataViewType(), 1)
            : new VectorDataViewType(Tensor.ElementType.ToDataViewType(), RowShape.Select(d => checked((int)d)).ToArray());
}

/// <summary>
/// The fitted shapes of a model: which columns feed which tensors, every per-row shape resolved, and
/// the batch. Worked out once, at fit time, from the model's signature, the columns and the
/// ShapeDictionary, with errors that name the column, the tensor and both shapes.
/// </summary>
internal sealed class ModelShapes
{
    private ModelShapes(IReadOnlyList<InputShape> inputs, BatchKind kind, int batchSize)
    {
        Inputs = inputs;
        BatchKind = kind;
        BatchSize = batchSize;
    }

    public IReadOnlyList<InputShape> Inputs { get; }

    /// <summary>Outputs, resolved once the engine can tell their shapes (<see cref="ResolveOutputs"/>).</summary>
    public IReadOnlyList<OutputShape> Outputs { get; private set; } = [];

    public BatchKind BatchKind { get; }

    /// <summary>Rows per batch: the user's batch size, or the model's fixed one.</summary>
    public int BatchSize { get; }

    /// <summary>Full input shapes for a batch of <paramref name="rows"/>.</summary>
    public Dictionary<string, long[]> InputShapesFor(long rows) =>
        Inputs.ToDictionary(i => i.Tensor.Name, i => WithBatch(i.Tensor, i.RowShape, rows));

    /// <summary>The tensor's full shape for a batch: the batch dimension in front, unless the tensor has none (rank 0).</summary>
    public static long[] WithBatch(TensorInfo tensor, long[] rowShape, long rows) =>
        tensor.Rank == 0 ? [] : [rows, .. rowShape];

    /// <summary>
    /// Matches columns to the model's inputs. <paramref name="columnType"/> gives a column's type by name
    /// (null when the column is missing); <paramref name="inputColumns"/> lists the inputs to feed.
    /// </summary>
    public static ModelShapes Bind(
        IReadOnlyList<TensorInfo> modelInputs,
        IReadOnlyList<string> inputColumns,
        Func<string, DataViewType?> columnType,
        IDictionary<string, int[]>? shapeDictionary,
        int batchSize,
        string modelName,
        IDictionary<string, ImageInputOptions>? images = null)
    {
        if (batchSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"BatchSize must be at least 1; it is {batchSize}.");

        foreach (var name in shapeDictionary?.Keys ?? [])
            if (!modelInputs.Any(t => t.Name == name))
                throw new ArgumentException($"ShapeDictionary names '{name}', which is not an input of {modelName}; its inputs are {Names(modelInputs)}.");

        foreach (var name in images?.Keys ?? [])
            if (!modelInputs.Any(t => t.Name == name))
                throw new ArgumentException($"ImageInputs names '{name}', which is not an input of {modelName}; its inputs are {Names(modelInputs)}.");

        var inputs = new List<InputShape>();
        foreach (var column in inputColumns)
        {
            if (images?.TryGetValue(column, out var image) == true)
            {
                inputs.Add(ImageInput.Bind(modelInputs.First(t => t.Name == column), image, columnType, modelName));
                continue;
            }
            var tensor = modelInputs.FirstOrDefault(t => t.Name == column)
                ?? throw new ArgumentException($"Input column '{column}' is not an input of {modelName}: its inputs are {Names(modelInputs)}. Input columns are named after the " +
                    $"model's input tensors, as in ApplyOnnxModel; rename a column with CopyColumns.");
            if (tensor.ElementType == TensorElementType.Unsupported)
                throw new ArgumentException($"Input {tensor} of {modelName} has type {tensor.TypeName}, which no ML.NET column carries; supported are float, double, int32, " +
                    $"int64, bool and uint8, and float16 and bfloat16 fed from float columns.");
            var type = columnType(column)
                ?? throw new ArgumentException($"Input column '{column}' was not found in the data; {modelName} needs it for its input {tensor}.");
            inputs.Add(BindInput(tensor, column, type, shapeDictionary, modelName));
        }
        var missing = modelInputs.Where(t => !inputColumns.Contains(t.Name)).ToList();
        if (missing.Count > 0)
            throw new ArgumentException($"{modelName} needs inputs {Names(missing)} that are not among the input columns {string.Join(", ", inputColumns.Select(c => $"'{c}'"))}.");

        var (kind, effectiveBatch) = BatchOf(inputs, batchSize, modelName);
        return new ModelShapes(inputs, kind, effectiveBatch);
    }

    private static InputShape BindInput(TensorInfo tensor, string column, DataViewType type, IDictionary<string, int[]>? shapeDictionary, string modelName)
    {
        var itemType = type is VectorDataViewType v ? v.ItemType : type;
        var expectedItem = tensor.ElementType.ToDataViewType();
        if (!itemType.Equals(expectedItem))
            throw new ArgumentException(
                $"Input column '{column}' holds {Describe(type)}, but {modelName}'s input {tensor} takes {expectedItem.RawType.Name} values: convert it first (for example with " +
                    $"mlContext.Transforms.Conversion.ConvertType).");

        // The per-row shape: the model's dimensions after the batch, with any open one filled in.
        var rowShape = tensor.Rank == 0 ? [] : tensor.Shape[1..];
        var rowNames = tensor.Rank == 0 ? [] : tensor.DimNames[1..];
        if (shapeDictionary?.TryGetValue(tensor.Name, out var given) == true)
        {
            if (given.Length != tensor.Rank)
                throw new ArgumentException($"ShapeDictionary gives '{tensor.Name}' the shape {TensorInfo.FormatShape(given.Select(d => (long)d).ToList())}, of rank " +
                    $"{given.Length}, but the model's input {tensor} has rank {tensor.Rank}.");
            for (var i = 0; i < rowShape.Length; i++)
            {
                long d = given[i + 1];
                if (d <= 0) continue;
                if (rowShape[i] > 0 && rowShape[i] != d)
                    throw new ArgumentException($"ShapeDictionary gives '{tensor.Name}' dimension {i + 1} the size {d}, but the model fixes it at {rowShape[i]} ({tensor}).");
                rowShape[i] = d;
            }
        }

        var columnSize = type is VectorDataViewType vector ? vector.Size : 1;
        var columnDims = type is VectorDataViewType { Dimensions.Length: > 0 } dims && dims.Dimensions.Length == rowShape.Length ? dims.Dimensions : default;
        var open = Enumerable.Range(0, rowShape.Length).Where(i => rowShape[i] <= 0).ToList();
        if (open.Count > 0 && !columnDims.IsDefault && columnDims.All(d => d > 0))
        {
            // The column's own shape fills the open dimensions (ExtractPixels, for one, states [3,h,w]).
            foreach (var i in open)
                rowShape[i] = columnDims[i];
            open.Clear();
        }
        if (open.Count == 1 && columnSize > 0)
        {
            var known = rowShape.Where(d => d > 0).Aggregate(1L, (a, b) => a * b);
            if (columnSize % known != 0)
                throw new ArgumentException(
                    $"Input column '{column}' has {columnSize} values per row, which does not fit the model's input {tensor}: the fixed dimensions hold {known} values, and " +
                        $"{columnSize} is not a multiple of {known}.");
            rowShape[open[0]] = columnSize / known;
            open.Clear();
        }
        if (open.Count > 0)
        {
            var names = string.Join(", ", open.Select(i => $"dimension {i + 1}{(rowNames[i] is { } n ? $" ('{n}')" : "")}"));
            throw new ArgumentException(
                columnSize == 0
                    ? $"Input column '{column}' is a vector of variable size and the model's input {tensor} leaves {names} open, so the shape of a row cannot be known: give " +
                        $"its shape in ShapeDictionary or make the column's size fixed."
                    : $"The model's input {tensor} leaves {names} open and column '{column}' ({columnSize} values per row) cannot settle more than one: give '{tensor.Name}' a " +
                        $"shape in ShapeDictionary.");
        }

        var elements = rowShape.Aggregate(1L, (a, b) => a * b);
        if (columnSize > 0 && columnSize != elements)
            throw new ArgumentException(
                $"Input column '{column}' has {columnSize} values per row, but the model's input {tensor} takes {elements} per row (shape {TensorInfo.FormatShape(rowShape)} " +
                    $"after the batch dimension).");
        return new InputShape(tensor, column, rowShape);
    }

    private static (BatchKind, int) BatchOf(List<InputShape> inputs, int batchSize, string modelName)
    {
        var fixedSizes = inputs
            .Select(i => i.Tensor.Rank == 0 ? 1 : i.Tensor.Shape[0])
            .Where(d => d > 0)
            .Distinct()
            .ToList();
        if (fixedSizes.Count > 1)
            throw new ArgumentException(
                $"The inputs of {modelName} disagree on the batch dimension: {string.Join(", ", inputs.Select(i => i.Tensor.ToString()))}.");
        return fixedSizes.Count == 1 ? (BatchKind.Fixed, checked((int)fixedSizes[0])) : (BatchKind.Dynamic, batchSize);
    }

    /// <summary>
    /// Settles every output's per-row shape: from the model's own dimensions, from symbolic names shared
    /// with the inputs, and otherwise from <paramref name="inferShapes"/> (the engine) at two batch sizes,
    /// which also shows that the output grows with the batch.
    /// With <c>verifyBatching</c> the engine runs at two batch sizes even when the shapes are stated (for
    /// a batch dimension TrtMLNet opened itself).
    /// </summary>
    public void ResolveOutputs(IReadOnlyList<TensorInfo> modelOutputs, Func<IReadOnlyDictionary<string, long[]>, IReadOnlyDictionary<string, long[]>> inferShapes, string modelName,
        bool verifyBatching = false)
    {
        var symbols = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var input in Inputs)
            for (var i = 1; i < input.Tensor.Rank; i++)
                if (input.Tensor.DimNames[i] is { } name)
                    symbols[name] = input.RowShape[i - 1];

        IReadOnlyDictionary<string, long[]>? atOne = null, atTwo = null;
        var outputs = new List<OutputShape>();
        foreach (var tensor in modelOutputs)
        {
            if (tensor.Rank > 0 && !OpensWithBatch(tensor))
                throw new ArgumentException($"{modelName}'s output {tensor} has no batch dimension in front, so its values cannot be split into rows.");
            var row = tensor.Rank == 0 ? [] : tensor.Shape[1..];
            for (var i = 0; i < row.Length; i++)
                if (row[i] <= 0 && tensor.DimNames[i + 1] is { } name && symbols.TryGetValue(name, out var value))
                    row[i] = value;
            if (row.Any(d => d <= 0) || verifyBatching)
            {
                atOne ??= inferShapes(InputShapesFor(BatchKind == BatchKind.Fixed ? BatchSize : 1));
                if (BatchKind == BatchKind.Dynamic)
                    atTwo ??= inferShapes(InputShapesFor(2));
                var shape = atOne[tensor.Name];
                if (shape.Length != tensor.Rank || (atTwo is not null && (atTwo[tensor.Name].Length == 0 || atTwo[tensor.Name][0] != 2 * shape[0])))
                    throw new ArgumentException($"{modelName}'s output {tensor} does not grow with the batch (shape {TensorInfo.FormatShape(shape)} for one row), so its values " +
                        $"cannot be split into rows.");
                row = shape[1..];
            }
            outputs.Add(new OutputShape(tensor, row));
        }
        Outputs = outputs;
    }

    private bool OpensWithBatch(TensorInfo output) =>
        output.Shape[0] <= 0 || (BatchKind == BatchKind.Fixed && output.Shape[0] == BatchSize);

    private static string Describe(DataViewType type) => type switch
    {
        VectorDataViewType { Size: 0 } v => $"variable-size vectors of {v.ItemType.RawType.Name}",
        VectorDataViewType v => $"vectors of {v.Size} {v.ItemType.RawType.Name}",
        _ => $"scalars of {type.RawType.Name}",
    };

    private static string Names(IEnumerable<TensorInfo> tensors) => string.Join(", ", tensors.Select(t => t.ToString()));
}
