using System.Globalization;

namespace BatchScoring.InputSources;

/// <summary>
/// A CSV file with a header, read by <see cref="CsvDataView"/>. Column kinds come from the header and
/// the first data line; each model input is read straight into a column of the tensor's element type,
/// gathering several file columns into a vector where the mapping says so. A shard reads the lines
/// that start in its share of the bytes after the header.
/// </summary>
public static class CsvInput
{
    /// <summary>Files up to this size are counted once so the progress bar can show a total.</summary>
    private const long CountLinesUpToBytes = 256L << 20;

    public static PreparedInput Open(JobOptions options, ModelSignature model, InputStart start)
    {
        var path = options.Input;
        var fileName = $"'{Path.GetFileName(path)}'";
        var separator = options.Separator ?? (Path.GetExtension(path).Equals(".tsv", StringComparison.OrdinalIgnoreCase) ? '\t' : ',');

        long dataStart, fileLength = new FileInfo(path).Length;
        string header, first;
        using (var reader = new CsvLineReader(path, 0, long.MaxValue))
        {
            if (!reader.TryReadLine(out header, out _, out dataStart) || string.IsNullOrWhiteSpace(header))
                throw new UsageException($"{fileName} is empty: a header line naming the columns is needed.");
            if (!reader.TryReadLine(out first, out _, out _))
                throw new UsageException($"{fileName} has a header but no rows.");
        }

        var names = CsvFields.Split(header.TrimStart('\uFEFF'), separator);
        var values = CsvFields.Split(first, separator);
        if (names.Count == 1 && separator != '\t' && header.Contains('\t'))
            throw new UsageException($"{fileName} seems to be tab-separated: pass --separator tab (or name it .tsv).");
        var columns = names.Select((name, i) => new FileColumn(name.Trim(), i, i < values.Count ? KindOf(values[i]) : FileColumnKind.Text)).ToList();

        foreach (var tensor in model.Inputs)
            InputSource.CheckSupported(tensor);
        var plan = InputMapping.Plan(columns, model, options.IdColumn, fileName);

        // The shard's lines: those starting in its share of the bytes after the header.
        var (from, to) = start.Shard.RangeOf(fileLength - dataStart);
        var rangeStart = CsvLineReader.NextLineStart(path, dataStart + from);
        var rangeEnd = dataStart + to;
        long firstLine;
        if (start.Resume is { } resume)
            (rangeStart, firstLine) = (resume.ResumeAt, resume.NextRow);
        else
            firstLine = rangeStart == dataStart ? 2 : CsvLineReader.CountLines(path, rangeStart) + 1;

        var id = plan.Id is { } i && plan.Inputs.All(b => b.Tensor.Name != i.Name) ? i : null;
        var layout = new CsvLayout(path, separator, names.Count, plan.Inputs, id, rangeStart, rangeEnd, firstLine);
        var rows = fileLength <= CountLinesUpToBytes ? CountRows(path, rangeStart, rangeEnd) : (long?)null;
        var shardNote = start.Shard.IsWhole ? "" : $"; shard {start.Shard}: bytes {rangeStart:N0}..{rangeEnd:N0}";
        return new PreparedInput(new CsvDataView(layout, start.BadRows), id is null ? [] : [id.Name], rows,
            $"CSV file {fileName}, {columns.Count} columns{shardNote}",
            plan.Inputs.Select(b => $"{b.Tensor} <- {b.How}").ToList(), InputMapping.Warnings(plan, fileName));
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

    /// <summary>Non-blank lines starting in [start, end): the rows to score, bad ones included.</summary>
    private static long CountRows(string path, long start, long end)
    {
        using var reader = new CsvLineReader(path, start, end);
        long rows = 0;
        while (reader.TryReadLine(out var line, out _, out _))
            if (!string.IsNullOrWhiteSpace(line))
                rows++;
        return rows;
    }
}
