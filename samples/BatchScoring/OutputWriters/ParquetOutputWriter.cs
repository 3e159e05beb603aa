using Parquet;
using Parquet.Schema;

namespace BatchScoring.OutputWriters;

/// <summary>
/// Parquet, in row groups of at most <see cref="RowGroupSize"/> rows: vector outputs as list columns,
/// single values and pass-through columns as plain ones. Only one row group is held in memory.
/// A commit writes the rows gathered as a row group and closes the file with its footer, flushed to
/// disk: the file is whole at every commit. The next part opens it in Parquet.Net's append mode, which
/// writes its row groups over that footer and a new footer after them; so the committed footer's bytes
/// are kept, for a resumed run to cut the file back to the committed row groups and close it again.
/// </summary>
public sealed class ParquetOutputWriter : OutputWriter
{
    public const int RowGroupSize = 4096;

    private readonly FileStream _stream;
    private readonly ParquetSchema _schema;
    private readonly IReadOnlyList<ParquetColumn> _columns;
    private ParquetWriter? _writer;
    private int _rows;

    private ParquetOutputWriter(FileStream stream, IReadOnlyList<ParquetColumn> columns)
    {
        _stream = stream;
        _columns = columns;
        _schema = new ParquetSchema(columns.Select(c => c.Field));
    }

    public static async Task<ParquetOutputWriter> OpenAsync(string path, IReadOnlyList<ColumnReader> readers, CommitPoint? resumeAt)
    {
        var stream = new FileStream(path, resumeAt is null ? FileMode.Create : FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        var writer = new ParquetOutputWriter(stream, readers.Select(ParquetColumn.For).ToList());
        if (resumeAt is { } point)
        {
            var footer = Convert.FromBase64String(point.ParquetFooter ?? throw new InvalidDataException("The manifest holds no Parquet footer for the committed parts."));
            stream.SetLength(point.Bytes - footer.Length);
            stream.Position = stream.Length;
            await stream.WriteAsync(footer);
            stream.Flush(flushToDisk: true);
        }
        else
        {
            // A file with the schema and no rows: whole from the start, so every later part appends.
            await (await ParquetWriter.CreateAsync(writer._schema, stream)).DisposeAsync();
        }
        return writer;
    }

    public override async ValueTask WriteRowAsync()
    {
        foreach (var column in _columns)
            column.Append();
        if (++_rows == RowGroupSize)
            await FlushRowGroupAsync();
    }

    public override async ValueTask<CommitPoint> CommitAsync()
    {
        if (_rows > 0)
            await FlushRowGroupAsync();
        if (_writer is not null)
        {
            await _writer.DisposeAsync();
            _writer = null;
        }
        _stream.Flush(flushToDisk: true);
        return new CommitPoint(_stream.Length, Convert.ToBase64String(Footer()));
    }

    private async Task FlushRowGroupAsync()
    {
        _stream.Position = _stream.Length;
        _writer ??= await ParquetWriter.CreateAsync(_schema, _stream, append: true);
        using (var group = _writer.CreateRowGroup())
        {
            foreach (var column in _columns)
                await column.WriteAsync(group);
            group.CompleteValidate();
        }
        _rows = 0;
    }

    /// <summary>The file's footer: its metadata, the metadata's length (4 bytes, little-endian) and "PAR1".</summary>
    private byte[] Footer()
    {
        Span<byte> tail = stackalloc byte[8];
        _stream.Position = _stream.Length - 8;
        _stream.ReadExactly(tail);
        var length = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(tail) + 8;
        var footer = new byte[length];
        _stream.Position = _stream.Length - length;
        _stream.ReadExactly(footer);
        _stream.Position = _stream.Length;
        return footer;
    }

    public override async ValueTask DisposeAsync()
    {
        if (_writer is not null)
            await _writer.DisposeAsync();
        await _stream.DisposeAsync();
    }

    /// <summary>One column's schema field and the values of the row group being gathered.</summary>
    private abstract class ParquetColumn
    {
        public abstract Field Field { get; }

        public abstract void Append();

        public abstract Task WriteAsync(ParquetRowGroupWriter group);

        public static ParquetColumn For(ColumnReader reader) => reader switch
        {
            TextColumnReader text => new TextColumn(text),
            ColumnReader<float> r => new NumericColumn<float>(r),
            ColumnReader<double> r => new NumericColumn<double>(r),
            ColumnReader<long> r => new NumericColumn<long>(r),
            ColumnReader<int> r => new NumericColumn<int>(r),
            ColumnReader<byte> r => new NumericColumn<byte>(r),
            ColumnReader<bool> r => new NumericColumn<bool>(r),
            _ => throw new UsageException($"Column '{reader.Name}' cannot be written to Parquet."),
        };
    }

    private sealed class NumericColumn<T> : ParquetColumn where T : unmanaged
    {
        private readonly ColumnReader<T> _reader;
        private readonly DataField<T> _values;
        private readonly bool _list;
        private T[] _buffer = new T[RowGroupSize];
        private int[] _repetition = [];
        private int[] _definition = [];
        private int _count;

        public NumericColumn(ColumnReader<T> reader)
        {
            _reader = reader;
            // A vector of one value per row reads better as a plain column (a score, a label).
            _list = reader.IsVector && reader.Size != 1;
            _values = new DataField<T>(_list ? ListField.ElementName : reader.Name);
            Field = _list ? new ListField(reader.Name, _values) : _values;
        }

        public override Field Field { get; }

        public override void Append()
        {
            var values = _reader.Values;
            if (_list && values.Length == 0)
                throw new InvalidOperationException($"Column '{_reader.Name}' has an empty vector in a row; this writer writes lists of one value or more.");
            if (_count + values.Length > _buffer.Length)
                Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _count + values.Length));
            if (_list)
            {
                if (_repetition.Length < _buffer.Length)
                    Array.Resize(ref _repetition, _buffer.Length);
                // Repetition level 0 starts a row's list, 1 continues it.
                _repetition[_count] = 0;
                _repetition.AsSpan(_count + 1, values.Length - 1).Fill(1);
            }
            values.CopyTo(_buffer.AsSpan(_count));
            _count += values.Length;
        }

        public override async Task WriteAsync(ParquetRowGroupWriter group)
        {
            if (_list)
            {
                // The list itself may be null in the schema, so its levels are needed even though every value is present.
                if (_definition.Length < _count)
                    _definition = new int[_buffer.Length];
                _definition.AsSpan(0, _count).Fill(_values.MaxDefinitionLevel);
                await group.WriteAllPartsAsync<T>(_values, _buffer.AsMemory(0, _count), _definition.AsMemory(0, _count), _repetition.AsMemory(0, _count), CancellationToken.None);
            }
            else
            {
                await group.WriteAsync<T>(_values, _buffer.AsMemory(0, _count));
            }
            _count = 0;
        }
    }

    private sealed class TextColumn(TextColumnReader reader) : ParquetColumn
    {
        private readonly DataField<string> _field = new(reader.Name);
        private readonly List<string> _values = new(RowGroupSize);

        public override Field Field => _field;

        public override void Append() => _values.Add(reader.Value);

        public override async Task WriteAsync(ParquetRowGroupWriter group)
        {
            await group.WriteAsync(_field, _values);
            _values.Clear();
        }
    }
}
