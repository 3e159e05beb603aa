namespace BatchScoring.InputSources;

/// <summary>What a column of an input file can feed.</summary>
public enum FileColumnKind
{
    /// <summary>One number per row (booleans count: they feed bool inputs and read as 0/1 elsewhere).</summary>
    Numeric,
    /// <summary>A list of numbers per row (a Parquet list column).</summary>
    NumericList,
    Text,
    Other,
}

public sealed record FileColumn(string Name, int Index, FileColumnKind Kind);

/// <summary>How one model input is fed, and from which file columns (in order).</summary>
public sealed record InputBinding(TensorSignature Tensor, IReadOnlyList<FileColumn> Sources, string How, bool ByPosition = false)
{
    /// <summary>True when a single list column feeds the whole input.</summary>
    public bool FromList => Sources is [{ Kind: FileColumnKind.NumericList }];
}

/// <summary>Which file columns feed which model input, and which column identifies a row.</summary>
public sealed record InputPlan(IReadOnlyList<InputBinding> Inputs, FileColumn? Id);

/// <summary>
/// Maps a tabular file's columns to the model's inputs, for CSV and Parquet alike. For each input, in
/// this order: a column named after the input tensor; else columns <c>tensor_0..tensor_{k-1}</c> (or
/// <c>tensor.0..</c>); else, when the model has a single input, every numeric column in file order but
/// the id column.
/// </summary>
public static class InputMapping
{
    private static readonly string[] DefaultIdNames = ["id", "Id", "ID"];

    public static InputPlan Plan(IReadOnlyList<FileColumn> columns, ModelSignature model, string? idColumn, string fileName)
    {
        var byName = new Dictionary<string, FileColumn>(StringComparer.Ordinal);
        foreach (var column in columns)
            byName.TryAdd(column.Name, column);

        FileColumn? id;
        if (idColumn is not null)
        {
            id = byName.GetValueOrDefault(idColumn)
                ?? throw new UsageException($"--id-column '{idColumn}' is not a column of {fileName}; its columns are {List(columns)}.");
        }
        else
        {
            id = DefaultIdNames.Select(n => byName.GetValueOrDefault(n)).FirstOrDefault(c => c is not null);
        }

        var inputs = model.Inputs.Select(tensor => Bind(tensor, columns, byName, id, model.Inputs.Count == 1, fileName)).ToList();
        return new InputPlan(inputs, id);
    }

    private static InputBinding Bind(TensorSignature tensor, IReadOnlyList<FileColumn> columns, Dictionary<string, FileColumn> byName,
        FileColumn? id, bool singleInput, string fileName)
    {
        var size = tensor.RowSize;
        if (byName.TryGetValue(tensor.Name, out var exact))
        {
            switch (exact.Kind)
            {
                case FileColumnKind.NumericList:
                    return new InputBinding(tensor, [exact], $"list column '{exact.Name}'");
                case FileColumnKind.Numeric when size is null or 1:
                    return new InputBinding(tensor, [exact], $"column '{exact.Name}'");
                case FileColumnKind.Numeric:
                    throw new UsageException(
                        $"Column '{exact.Name}' of {fileName} holds one number per row, but the model's input {tensor} takes {size} per row: " +
                        $"give {fileName} a list column '{tensor.Name}' (Parquet) or columns '{tensor.Name}_0'..'{tensor.Name}_{size - 1}'.");
                default:
                    throw new UsageException($"Column '{exact.Name}' of {fileName} does not hold numbers, but it is named after the model's input {tensor}.");
            }
        }

        foreach (var separator in new[] { "_", "." })
        {
            var indexed = new List<FileColumn>();
            while (byName.TryGetValue($"{tensor.Name}{separator}{indexed.Count}", out var next))
                indexed.Add(next);
            if (indexed.Count == 0)
                continue;
            if (indexed.FirstOrDefault(c => c.Kind != FileColumnKind.Numeric) is { } bad)
                throw new UsageException($"Column '{bad.Name}' of {fileName} does not hold numbers, but it is named as a value of the model's input {tensor}.");
            if (size is { } k && indexed.Count != k)
                throw new UsageException(
                    $"{fileName} has {indexed.Count} columns '{tensor.Name}{separator}0'..'{indexed[^1].Name}', but the model's input {tensor} takes {k} values per row.");
            return new InputBinding(tensor, indexed, $"columns '{indexed[0].Name}'..'{indexed[^1].Name}'");
        }

        if (!singleInput)
            throw new UsageException(
                $"No column of {fileName} feeds the model's input {tensor}: name a column '{tensor.Name}' or columns '{tensor.Name}_0', '{tensor.Name}_1', ... " +
                $"(with several inputs, columns are matched by name only). The file's columns are {List(columns)}.");

        var numeric = columns.Where(c => c.Kind == FileColumnKind.Numeric && c != id).ToList();
        if (numeric.Count == 0)
            throw new UsageException($"{fileName} has no numeric columns to feed the model's input {tensor}; its columns are {List(columns)}.");
        if (size is { } n && numeric.Count != n)
            throw new UsageException(
                $"The model's input {tensor} takes {n} values per row, but {fileName} has {numeric.Count} numeric columns{(id is null ? "" : $" besides the id column '{id.Name}'")} " +
                $"({List(numeric)}). Name the feature columns '{tensor.Name}_0'..'{tensor.Name}_{n - 1}', or drop the others.");
        var skipped = columns.Where(c => c.Kind != FileColumnKind.Numeric && c != id).ToList();
        var how = $"every numeric column ({numeric.Count}: '{numeric[0].Name}'..'{numeric[^1].Name}')";
        if (skipped.Count > 0)
            how += $"; not used: {List(skipped)}";
        return new InputBinding(tensor, numeric, how, ByPosition: true);
    }

    /// <summary>
    /// A warning for each input fed by position: the file names no column after it, so its values come
    /// from whatever numeric columns the file has, in file order, which may not be what the model expects.
    /// </summary>
    public static List<string> Warnings(InputPlan plan, string fileName) => plan.Inputs.Where(b => b.ByPosition)
        .Select(b => $"No column of {fileName} is named after the model's input {b.Tensor}, so it is fed by position from the {b.Sources.Count} numeric column(s) " +
            $"{List(b.Sources)}, in file order. Name them '{b.Tensor.Name}_0'..'{b.Tensor.Name}_{b.Sources.Count - 1}' (or one column '{b.Tensor.Name}') if that order is not the model's.")
        .ToList();

    private static string List(IEnumerable<FileColumn> columns)
    {
        var names = columns.Select(c => $"'{c.Name}'").ToList();
        return names.Count <= 12 ? string.Join(", ", names) : string.Join(", ", names.Take(12)) + $" and {names.Count - 12} more";
    }
}
