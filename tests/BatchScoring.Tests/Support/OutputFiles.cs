using System.Globalization;
using Parquet;
using Parquet.Data;
using Parquet.Schema;

namespace BatchScoring.Tests.Support;

/// <summary>
/// Reads the job's outputs back as rows of text cells, so two runs (or Parquet and CSV) compare row
/// for row: a list becomes its values joined by spaces, numbers print round-trip exact.
/// </summary>
public static class OutputFiles
{
    public static List<string[]> ReadParquet(string path) => WithReader(path, reader =>
    {
        var fields = reader.Schema.Fields.ToList();
        var rows = new List<string[]>();
        for (var g = 0; g < reader.RowGroupCount; g++)
        {
            using var group = reader.OpenRowGroupReader(g);
            var n = (int)group.RowCount;
            var columns = fields.Select(f => ReadColumn(group, f, n)).ToList();
            for (var r = 0; r < n; r++)
                rows.Add(columns.Select(c => c[r]).ToArray());
        }
        return rows;
    });

    public static List<string> ParquetColumnNames(string path) => WithReader(path, r => r.Schema.Fields.Select(f => f.Name).ToList());

    public static int ParquetRowGroups(string path) => WithReader(path, r => r.RowGroupCount);

    /// <summary>Where a column chunk's first data page starts: its page header, for a test to corrupt.</summary>
    public static long DataPageOffset(string path, int group, int column) =>
        WithReader(path, r => r.Metadata!.RowGroups[group].Columns[column].MetaData!.DataPageOffset);

    private static T WithReader<T>(string path, Func<ParquetReader, T> read)
    {
        using var stream = File.OpenRead(path);
        var reader = ParquetReader.CreateAsync(stream).GetAwaiter().GetResult();
        try
        {
            return read(reader);
        }
        finally
        {
            reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static string[] ReadColumn(ParquetRowGroupReader group, Field field, int rows)
    {
        var data = field switch
        {
            ListField list => (DataField)list.Item,
            DataField d => d,
            _ => throw new NotSupportedException(field.Name),
        };
        if (data.ClrType == typeof(string) || data.ClrType == typeof(ReadOnlyMemory<char>))
        {
            var text = new string?[rows];
            group.ReadAsync(data, text.AsMemory()).AsTask().GetAwaiter().GetResult();
            return text.Select(t => t ?? "").ToArray();
        }
        using var raw = group.ReadRawColumnDataBaseAsync(data).AsTask().GetAwaiter().GetResult();
        var values = raw switch
        {
            RawColumnData<float> r => r.Values.ToArray().Select(v => v.ToString("R", CultureInfo.InvariantCulture)).ToArray(),
            RawColumnData<double> r => r.Values.ToArray().Select(v => v.ToString("R", CultureInfo.InvariantCulture)).ToArray(),
            RawColumnData<long> r => r.Values.ToArray().Select(v => v.ToString(CultureInfo.InvariantCulture)).ToArray(),
            RawColumnData<int> r => r.Values.ToArray().Select(v => v.ToString(CultureInfo.InvariantCulture)).ToArray(),
            RawColumnData<bool> r => r.Values.ToArray().Select(v => v ? "true" : "false").ToArray(),
            _ => throw new NotSupportedException(data.ClrType.Name),
        };
        if (field is not ListField)
            return values;
        var repetition = raw.RepetitionLevels.ToArray();
        var result = new List<string>();
        var current = new List<string>();
        for (var i = 0; i < repetition.Length; i++)
        {
            if (repetition[i] == 0 && i > 0)
            {
                result.Add(string.Join(' ', current));
                current.Clear();
            }
            current.Add(values[i]);
        }
        if (repetition.Length > 0)
            result.Add(string.Join(' ', current));
        return result.ToArray();
    }

    /// <summary>A CSV output's data lines split into cells, the header left out.</summary>
    public static List<string[]> ReadCsv(string path) =>
        File.ReadAllLines(path).Skip(1).Select(l => l.Split(',')).ToList();

    public static string CsvHeader(string path) => File.ReadLines(path).First();
}
