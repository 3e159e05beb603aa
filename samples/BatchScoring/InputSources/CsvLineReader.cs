using System.Text;

namespace BatchScoring.InputSources;

/// <summary>
/// Reads the lines of a byte range of a text file, with the byte offset where each starts and ends,
/// so a shard can take the lines that start in its byte range and a resumed run can seek to the line
/// after the last one committed. A line ends at '\n' (a '\r' before it is dropped); quoted fields may
/// not hold line breaks.
/// </summary>
public sealed class CsvLineReader : IDisposable
{
    private readonly FileStream _stream;
    private readonly long _end;
    private byte[] _buffer = new byte[1 << 16];
    private int _start;
    private int _count;
    private long _bufferOffset;
    private bool _eof;

    /// <param name="start">A line's first byte.</param>
    /// <param name="end">Lines that start at or after this offset belong to the next range.</param>
    public CsvLineReader(string path, long start, long end)
    {
        _stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        _stream.Position = start;
        _bufferOffset = start;
        _end = end;
    }

    /// <summary>The next line starting before the range's end; false when there is none.</summary>
    public bool TryReadLine(out string line, out long lineStart, out long next)
    {
        lineStart = _bufferOffset + _start;
        if (lineStart >= _end)
        {
            (line, next) = ("", lineStart);
            return false;
        }
        int newline;
        while ((newline = _buffer.AsSpan(_start, _count - _start).IndexOf((byte)'\n')) < 0 && !_eof)
            Fill();
        if (newline < 0 && _count == _start)
        {
            (line, next) = ("", lineStart);
            return false;
        }
        var length = newline < 0 ? _count - _start : newline;
        var bytes = _buffer.AsSpan(_start, length);
        if (bytes.Length > 0 && bytes[^1] == (byte)'\r')
            bytes = bytes[..^1];
        line = Encoding.UTF8.GetString(bytes);
        _start += newline < 0 ? length : length + 1;
        next = _bufferOffset + _start;
        return true;
    }

    /// <summary>Keeps the unread tail at the front of the buffer (growing it for a long line) and reads more after it.</summary>
    private void Fill()
    {
        var tail = _count - _start;
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, tail);
            _bufferOffset += _start;
            _start = 0;
            _count = tail;
        }
        if (_count == _buffer.Length)
            Array.Resize(ref _buffer, _buffer.Length * 2);
        var read = _stream.Read(_buffer, _count, _buffer.Length - _count);
        _count += read;
        _eof = read == 0;
    }

    public void Dispose() => _stream.Dispose();

    /// <summary>The first line start at or after <paramref name="offset"/> (a line starts after a '\n'); the file's length if none.</summary>
    public static long NextLineStart(string path, long offset)
    {
        if (offset == 0)
            return 0;
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        stream.Position = offset - 1;
        var buffer = new byte[1 << 16];
        var position = offset - 1;
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            var at = buffer.AsSpan(0, read).IndexOf((byte)'\n');
            if (at >= 0)
                return position + at + 1;
            position += read;
        }
        return stream.Length;
    }

    /// <summary>How many '\n' come before <paramref name="offset"/>: the line number of the line starting there, less one.</summary>
    public static long CountLines(string path, long offset)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        var buffer = new byte[1 << 20];
        long lines = 0, left = offset;
        int read;
        while (left > 0 && (read = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, left))) > 0)
        {
            lines += buffer.AsSpan(0, read).Count((byte)'\n');
            left -= read;
        }
        return lines;
    }
}
