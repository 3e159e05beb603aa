using System.Text;

namespace BatchScoring.OutputWriters;

/// <summary>
/// CSV with a header. A vector column of known size becomes columns &lt;name&gt;_0..&lt;name&gt;_{k-1}
/// (one value stays &lt;name&gt;); one whose size varies from row to row becomes one field of values
/// separated by spaces, since a header cannot name a varying number of columns.
/// </summary>
public sealed class CsvOutputWriter : OutputWriter
{
    private readonly StreamWriter _writer;
    private readonly IReadOnlyList<ColumnReader> _columns;

    public CsvOutputWriter(string path, IReadOnlyList<ColumnReader> columns)
    {
        _columns = columns;
        _writer = new StreamWriter(path, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 1 << 16);
        var header = columns.SelectMany(c => c.IsVector && c.Size > 1 ? Enumerable.Range(0, c.Size).Select(i => $"{c.Name}_{i}") : [c.Name]);
        _writer.WriteLine(string.Join(",", header.Select(Quote)));
    }

    protected override ValueTask WriteRowAsync()
    {
        for (var c = 0; c < _columns.Count; c++)
        {
            if (c > 0)
                _writer.Write(',');
            var column = _columns[c];
            var varies = column.IsVector && column.Size == 0;
            for (var i = 0; i < column.Count; i++)
            {
                if (i > 0)
                    _writer.Write(varies ? ' ' : ',');
                column.WriteText(i, _writer);
            }
        }
        _writer.WriteLine();
        return ValueTask.CompletedTask;
    }

    protected override async ValueTask CompleteAsync() => await _writer.FlushAsync();

    public override ValueTask DisposeAsync() => _writer.DisposeAsync();

    private static string Quote(string name) => name.IndexOfAny([',', '"', '\n', '\r']) < 0 ? name : $"\"{name.Replace("\"", "\"\"")}\"";
}
