using System.Text;

namespace BatchScoring.OutputWriters;

/// <summary>
/// CSV with a header. A vector column of known size becomes columns &lt;name&gt;_0..&lt;name&gt;_{k-1}
/// (one value stays &lt;name&gt;); one whose size varies from row to row becomes one field of values
/// separated by spaces, since a header cannot name a varying number of columns. A commit flushes to
/// disk; a resumed file is cut back to its committed length and appended to.
/// </summary>
public sealed class CsvOutputWriter : OutputWriter
{
    private readonly FileStream _stream;
    private readonly StreamWriter _writer;
    private readonly IReadOnlyList<ColumnReader> _columns;

    public CsvOutputWriter(string path, IReadOnlyList<ColumnReader> columns, CommitPoint? resumeAt)
    {
        _columns = columns;
        _stream = new FileStream(path, resumeAt is null ? FileMode.Create : FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        if (resumeAt is { } point)
        {
            _stream.SetLength(point.Bytes);
            _stream.Position = point.Bytes;
        }
        _writer = new StreamWriter(_stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 1 << 16);
        if (resumeAt is null)
        {
            var header = columns.SelectMany(c => c.IsVector && c.Size > 1 ? Enumerable.Range(0, c.Size).Select(i => $"{c.Name}_{i}") : [c.Name]);
            _writer.WriteLine(string.Join(",", header.Select(Quote)));
        }
    }

    public override ValueTask WriteRowAsync()
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

    public override async ValueTask<CommitPoint> CommitAsync()
    {
        await _writer.FlushAsync();
        _stream.Flush(flushToDisk: true);
        return new CommitPoint(_stream.Length, null);
    }

    public override async ValueTask DisposeAsync()
    {
        await _writer.DisposeAsync();
        await _stream.DisposeAsync();
    }

    private static string Quote(string name) => name.IndexOfAny([',', '"', '\n', '\r']) < 0 ? name : $"\"{name.Replace("\"", "\"\"")}\"";
}
