using System.Globalization;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace BatchScoring.InputSources;

/// <summary>
/// A CSV file with a header, streamed by ML.NET's text loader. Column kinds come from the header and
/// the first data line; the loader then reads each model input straight into one column of the
/// tensor's element type, gathering several file columns into a vector where the mapping says so.
/// </summary>
public static class CsvInput
{
    /// <summary>Files up to this size are counted once so the progress bar can show a total.</summary>
    private const long CountLinesUpToBytes = 256L << 20;

    public static PreparedInput Open(MLContext mlContext, JobOptions options, ModelSignature model)
    {
        var path = options.Input;
        var fileName = $"'{Path.GetFileName(path)}'";
        var separator = options.Separator ?? (Path.GetExtension(path).Equals(".tsv", StringComparison.OrdinalIgnoreCase) ? '\t' : ',');

        string? header, first;
        using (var reader = new StreamReader(path, Encoding.UTF8))
        {
            header = reader.ReadLine();
            first = reader.ReadLine();
        }
        if (string.IsNullOrWhiteSpace(header))
            throw new UsageException($"{fileName} is empty: a header line naming the columns is needed.");
        if (first is null)
            throw new UsageException($"{fileName} has a header but no rows.");

        var names = SplitLine(header, separator);
        var values = SplitLine(first, separator);
        if (names.Count == 1 && separator != '\t' && header.Contains('\t'))
            throw new UsageException($"{fileName} seems to be tab-separated: pass --separator '\\t' (or name it .tsv).");
        if (values.Count != names.Count)
            throw new UsageException($"The first row of {fileName} has {values.Count} fields but its header names {names.Count} columns (separator '{separator}').");
        var columns = names.Select((name, i) => new FileColumn(name.Trim(), i, KindOf(values[i]))).ToList();

        foreach (var tensor in model.Inputs)
            InputSource.CheckSupported(tensor);
        var plan = InputMapping.Plan(columns, model, options.IdColumn, fileName);

        var loaderColumns = plan.Inputs
            .Select(b => new TextLoader.Column(b.Tensor.Name, InputSource.DataKindOf(b.Tensor.ElementType)!.Value,
                b.Sources.Select(s => new TextLoader.Range(s.Index)).ToArray()))
            .ToList();
        var passThrough = new List<string>();
        if (plan.Id is { } id && plan.Inputs.All(b => b.Tensor.Name != id.Name))
        {
            // Ids stay text: "007" and 12345678901234567890 survive as written.
            loaderColumns.Add(new TextLoader.Column(id.Name, DataKind.String, id.Index));
            passThrough.Add(id.Name);
        }

        var data = mlContext.Data.LoadFromTextFile(path, new TextLoader.Options
        {
            Columns = loaderColumns.ToArray(),
            HasHeader = true,
            Separators = [separator],
            AllowQuoting = true,
            TrimWhitespace = true,
            MissingRealsAsNaNs = true,
        });
        var rows = new FileInfo(path).Length <= CountLinesUpToBytes ? CountRows(path) : (long?)null;
        return new PreparedInput(data, passThrough, rows, $"CSV file {fileName}, {columns.Count} columns",
            plan.Inputs.Select(b => $"{b.Tensor} <- {b.How}").ToList());
    }

    private static FileColumnKind KindOf(string value)
    {
        var v = value.Trim();
        // An empty first value is a missing number more often than a missing text.
        if (v.Length == 0 || double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
            || v.Equals("true", StringComparison.OrdinalIgnoreCase) || v.Equals("false", StringComparison.OrdinalIgnoreCase))
            return FileColumnKind.Numeric;
        return FileColumnKind.Text;
    }

    /// <summary>Splits one line into fields, honouring double quotes as the text loader does.</summary>
    private static List<string> SplitLine(string line, char separator)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == separator) { fields.Add(field.ToString()); field.Clear(); }
            else field.Append(c);
        }
        fields.Add(field.ToString());
        return fields;
    }

    /// <summary>Data lines (non-empty lines after the header); quoted fields holding line breaks make it an estimate.</summary>
    private static long CountRows(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        var buffer = new byte[1 << 16];
        long lines = 0;
        var lastWasNewline = true;
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            var span = buffer.AsSpan(0, read);
            lines += span.Count((byte)'\n');
            lastWasNewline = span[^1] == (byte)'\n';
        }
        if (!lastWasNewline)
            lines++;
        return Math.Max(0, lines - 1);
    }
}
