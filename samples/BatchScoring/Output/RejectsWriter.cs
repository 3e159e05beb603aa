using System.Text;

namespace BatchScoring.Output;

/// <summary>
/// The rejected rows of a --bad-rows skip run, as CSV (file, position, column, value, reason), in input
/// order. Written to a temporary file that commits with the output's parts (a resumed run cuts it back
/// to its committed length) and is renamed to &lt;output&gt;.rejects.csv when the output is complete. The
/// file is made only when the first row is rejected.
/// </summary>
public sealed class RejectsWriter : IDisposable
{
    public const string Header = "file,position,column,value,reason";

    private readonly string _path;
    private FileStream? _stream;
    private StreamWriter? _writer;

    /// <param name="committedBytes">0 for a fresh file; else the committed length to cut the file back to.</param>
    public RejectsWriter(string path, long committedBytes, long committedRows)
    {
        _path = path;
        Rows = committedRows;
        if (committedBytes > 0)
        {
            _stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            _stream.SetLength(committedBytes);
            _stream.Position = committedBytes;
            _writer = new StreamWriter(_stream, new UTF8Encoding(false));
        }
        else
        {
            File.Delete(path);
        }
    }

    public string Path => _path;

    /// <summary>Rejected rows written, committed or not.</summary>
    public long Rows { get; private set; }

    public bool Exists => _stream is not null;

    public void Write(IEnumerable<BadRow> rows)
    {
        foreach (var row in rows)
        {
            if (_writer is null)
            {
                _stream = new FileStream(_path, FileMode.Create, FileAccess.ReadWrite, FileShare.None);
                _writer = new StreamWriter(_stream, new UTF8Encoding(false));
                _writer.WriteLine(Header);
            }
            _writer.WriteLine(string.Join(",", new[] { row.File.Trim('\''), row.Where, row.Column ?? "", row.Value ?? "", row.Reason }.Select(Quote)));
            Rows++;
        }
    }

    /// <summary>Makes what is written durable; returns the committed length in bytes.</summary>
    public long Commit()
    {
        if (_writer is null)
            return 0;
        _writer.Flush();
        _stream!.Flush(flushToDisk: true);
        return _stream.Length;
    }

    public void Dispose()
    {
        _writer?.Dispose();
        _stream?.Dispose();
    }

    private static string Quote(string field) =>
        field.IndexOfAny([',', '"', '\n', '\r']) < 0 ? field : $"\"{field.Replace("\"", "\"\"")}\"";
}
