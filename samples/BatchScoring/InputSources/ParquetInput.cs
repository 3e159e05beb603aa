using Parquet;
using Parquet.Schema;

namespace BatchScoring.InputSources;

/// <summary>
/// A Parquet file, streamed one row group at a time through <see cref="ParquetDataView"/>. Each model
/// input is fed from a list column, from one numeric column, or from several numeric columns gathered
/// into a vector; values are converted to the tensor's element type as they are read.
/// </summary>
public static class ParquetInput
{
    private static readonly HashSet<Type> NumericTypes =
    [
        typeof(float), typeof(double), typeof(Half), typeof(int), typeof(long), typeof(short), typeof(byte),
        typeof(sbyte), typeof(ushort), typeof(uint), typeof(ulong), typeof(bool),
    ];

    public static PreparedInput Open(JobOptions options, ModelSignature model, InputStart start)
    {
        var path = options.Input;
        var fileName = $"'{Path.GetFileName(path)}'";
        ParquetReader reader;
        try
        {
            reader = ParquetReader.CreateAsync(path).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ParquetException)
        {
            throw new UsageException($"{fileName} cannot be read as Parquet: {e.Message}");
        }
        using var _ = new AsyncDisposer(reader);

        // Top-level fields only: a list of numbers is one column here; structs and maps are left alone.
        var fields = reader.Schema.Fields.ToList();
        var columns = new List<FileColumn>();
        var dataFields = new Dictionary<string, DataField>();
        for (var i = 0; i < fields.Count; i++)
        {
            var (kind, data) = Classify(fields[i]);
            columns.Add(new FileColumn(fields[i].Name, i, kind));
            if (data is not null)
                dataFields[fields[i].Name] = data;
        }

        foreach (var tensor in model.Inputs)
            InputSource.CheckSupported(tensor);
        var plan = InputMapping.Plan(columns, model, options.IdColumn, fileName);

        var rowGroupRows = reader.Metadata!.RowGroups.Select(g => g.NumRows).ToArray();
        var groups = Groups(rowGroupRows, start);
        var tensors = plan.Inputs.Select(binding =>
        {
            var sources = binding.Sources.Select(s => dataFields[s.Name]).ToList();
            var rowSize = binding.FromList
                ? binding.Tensor.RowSize ?? FirstListLength(reader, sources[0], fileName)
                : sources.Count;
            return new ParquetTensorSource(binding.Tensor, sources, binding.FromList, rowSize);
        }).ToList();

        ParquetIdSource? id = null;
        if (plan.Id is { } idColumn && plan.Inputs.All(b => b.Tensor.Name != idColumn.Name))
        {
            if (!dataFields.TryGetValue(idColumn.Name, out var idField) || idField.MaxRepetitionLevel > 0)
                throw new UsageException($"The id column '{idColumn.Name}' of {fileName} is not a plain column; pick another with --id-column.");
            id = new ParquetIdSource(idColumn.Name, idField);
        }

        var view = new ParquetDataView(path, tensors, id, groups, start.BadRows);
        var shardNote = start.Shard.IsWhole ? "" : $"; shard {start.Shard}: row groups {(groups.Count == 0 ? "none" : $"{groups[0].Index}..{groups[^1].Index}")}";
        return new PreparedInput(view, id is null ? [] : [id.Name], groups.Sum(g => g.Rows - g.Skip),
            $"Parquet file {fileName}, {columns.Count} columns in {rowGroupRows.Length} row group(s){shardNote}",
            plan.Inputs.Select(b => $"{b.Tensor} <- {b.How}").ToList(), InputMapping.Warnings(plan, fileName));
    }

    /// <summary>
    /// The row groups this shard reads: those whose first row falls in the shard's share of the rows,
    /// so shards are disjoint, cover the file and keep its order. A resumed run skips the rows before
    /// its resume point.
    /// </summary>
    public static List<ParquetGroupRange> Groups(long[] rowGroupRows, InputStart start)
    {
        var (from, to) = start.Shard.RangeOf(rowGroupRows.Sum());
        var groups = new List<ParquetGroupRange>();
        long first = 0;
        for (var g = 0; g < rowGroupRows.Length; first += rowGroupRows[g], g++)
        {
            if (first < from || first >= to)
                continue;
            var skip = start.Resume is { } resume ? Math.Clamp(resume.ResumeAt - first, 0, rowGroupRows[g]) : 0;
            if (skip < rowGroupRows[g])
                groups.Add(new ParquetGroupRange(g, first, rowGroupRows[g], skip));
        }
        return groups;
    }

    private static (FileColumnKind Kind, DataField? Data) Classify(Field field) => field switch
    {
        DataField { MaxRepetitionLevel: 0 } d when NumericTypes.Contains(d.ClrType) => (FileColumnKind.Numeric, d),
        DataField { MaxRepetitionLevel: 0 } d when IsText(d) => (FileColumnKind.Text, d),
        DataField { MaxRepetitionLevel: 0 } d => (FileColumnKind.Other, d),
        // A legacy repeated primitive is a list without the wrapping groups.
        DataField { MaxRepetitionLevel: 1 } d when NumericTypes.Contains(d.ClrType) => (FileColumnKind.NumericList, d),
        ListField { Item: DataField { MaxRepetitionLevel: 1 } item } when NumericTypes.Contains(item.ClrType) => (FileColumnKind.NumericList, item),
        _ => (FileColumnKind.Other, null),
    };

    /// <summary>Parquet.Net reports UTF-8 columns as ReadOnlyMemory&lt;char&gt; (it reads them without making strings).</summary>
    public static bool IsText(DataField field) => field.ClrType == typeof(string) || field.ClrType == typeof(ReadOnlyMemory<char>);

    /// <summary>How many values the first row's list holds: the per-row size when the model leaves it open.</summary>
    private static int FirstListLength(ParquetReader reader, DataField field, string fileName)
    {
        for (var g = 0; g < reader.RowGroupCount; g++)
        {
            using var group = reader.OpenRowGroupReader(g);
            if (group.RowCount == 0)
                continue;
            using var raw = group.ReadRawColumnDataBaseAsync(field).AsTask().GetAwaiter().GetResult();
            var repetition = raw.RepetitionLevels;
            var length = 1;
            while (length < repetition.Length && repetition[length] != 0)
                length++;
            return length;
        }
        throw new UsageException($"{fileName} has no rows.");
    }

    /// <summary>ParquetReader is only IAsyncDisposable; this disposes it at the end of a synchronous scope.</summary>
    private readonly struct AsyncDisposer(IAsyncDisposable target) : IDisposable
    {
        public void Dispose() => target.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }
}
