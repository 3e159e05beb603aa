using Parquet;
using Parquet.Schema;

namespace BatchScoring.OutputWriters;

/// <summary>
/// Parquet, in row groups of about <see cref="RowGroupBytes"/> of values and at most <see cref="MaxRowGroupRows"/>
/// rows (<see cref="RowGroupRowsFor"/>): vector outputs as list columns,
/// single values and pass-through columns as plain ones. Only one row group is held in memory.
/// A commit writes the rows gathered as a row group and closes the file with its footer, flushed to
/// disk: the file is whole at every commit. The next part opens it in Parquet.Net's append mode, which
/// writes its row groups over that footer and a new footer after them; so the committed footer's bytes
/// are kept, for a resumed run to cut the file back to the committed row groups and close it again.
/// A full row group is written on a task of its own while the next one is gathered (a flush of 4,096 rows
/// of 1,000 floats took 20 ms, 128 ms the first time, and held up the cursor feeding the GPU); at most one
/// is written at a time, and a commit waits for it, so a commit still covers every row written before it.
/// Each group written beside the cursor is also flushed to disk there: what is left for the last commit, which
/// the run waits for, is one group at most (4,096 rows of 1,000 floats left 70-110 ms between the last row
/// scored and the run's end on the H200's machine, docs/benchmarks.md "Ninth session").
/// </summary>
public sealed class ParquetOutputWriter : OutputWriter
{
    /// <summary>What a row group aims at: small enough that the last one, written while the run waits, is quick.</summary>
    public const int RowGroupBytes = 4 << 20;

    public const int MaxRowGroupRows = 4096;

    /// <summary>Below this a row group's overhead (its column chunks' headers and statistics) starts to show.</summary>
    public const int MinRowGroupRows = 128;

    private readonly FileStream _stream;
    private readonly ParquetSchema _schema;
    private readonly IReadOnlyList<ParquetColumn> _columns;
    private readonly int _rowGroupRows;
    private ParquetWriter? _writer;
    private int _rows;
    private Task _writing = Task.CompletedTask;

    private ParquetOutputWriter(FileStream stream, IReadOnlyList<ParquetColumn> columns)
    {
        _stream = stream;
        _columns = columns;
        _schema = new ParquetSchema(columns.Select(c => c.Field));
        _rowGroupRows = RowGroupRowsFor(columns.Sum(c => c.BytesPerRow));
    }

    /// <summary>Rows per row group for rows of about <paramref name="bytesPerRow"/> bytes of values.</summary>
    public static int RowGroupRowsFor(long bytesPerRow) => (int)Math.Clamp(RowGroupBytes / Math.Max(1, bytesPerRow), MinRowGroupRows, MaxRowGroupRows);

    /// <summary>Rows per row group for the columns <paramref name="readers"/> read.</summary>
    public static int RowGroupRowsFor(IEnumerable<ColumnReader> readers) => RowGroupRowsFor(readers.Sum(r => ParquetColumn.For(r).BytesPerRow));

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
        if (++_rows < _rowGroupRows)
            return;
        // The previous group's arrays are the next group's: its write must be done before they are reused.
        await _writing;
        var group = TakeRowGroup();
        _writing = Task.Run(async () =>
        {
            await WriteRowGroupAsync(group);
            _stream.Flush(flushToDisk: true);
        });
    }

    public override async ValueTask<CommitPoint> CommitAsync()
    {
        await _writing;
        if (_rows > 0)
            await WriteRowGroupAsync(TakeRowGroup());
        if (_writer is not null)
        {
            await _writer.DisposeAsync();
            _writer = null;
        }
        _stream.Flush(flushToDisk: true);
        return new CommitPoint(_stream.Length, Convert.ToBase64String(Footer()));
    }

    /// <summary>Hands the gathered rows over as one row group's column writes; the columns gather the next group into their spare arrays.</summary>
    private List<Func<ParquetRowGroupWriter, Task>> TakeRowGroup()
    {
        _rows = 0;
        return [.. _columns.Select(c => c.Take())];
    }

    private async Task WriteRowGroupAsync(List<Func<ParquetRowGroupWriter, Task>> columns)
    {
        _stream.Position = _stream.Length;
        _writer ??= await ParquetWriter.CreateAsync(_schema, _stream, append: true);
        using var group = _writer.CreateRowGroup();
        foreach (var write in columns)
            await write(group);
        group.CompleteValidate();
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
        try
        {
            await _writing;
        }
        catch (Exception)
        {
            // A failed write already failed the run at its next row or commit; the stream must still close.
        }
        if (_writer is not null)
            await _writer.DisposeAsync();
        await _stream.DisposeAsync();
    }

    /// <summary>One column's schema field and the values of the row group being gathered.</summary>
    private abstract class ParquetColumn
    {
        public abstract Field Field { get; }

        /// <summary>About how many bytes of values a row adds.</summary>
        public abstract int BytesPerRow { get; }

        public abstract void Append();

        /// <summary>
        /// The gathered values, as a write into a row group; gathering goes on in spare arrays, which must not
        /// be handed over again before that write is done.
        /// </summary>
        public abstract Func<ParquetRowGroupWriter, Task> Take();

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
        private T[] _buffer = new T[MinRowGroupRows], _spareBuffer = new T[MinRowGroupRows];
        private int[] _repetition = [], _spareRepetition = [];
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

        // A vector of unknown size counts as one value: such outputs are rare, and the group's row cap still holds.
        public override int BytesPerRow => Math.Max(1, _reader.Size) * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();

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

        public override Func<ParquetRowGroupWriter, Task> Take()
        {
            var (values, repetition, count) = (_buffer, _repetition, _count);
            (_buffer, _spareBuffer) = (_spareBuffer, _buffer);
            (_repetition, _spareRepetition) = (_spareRepetition, _repetition);
            _count = 0;
            return group => Write(group, values, repetition, count);
        }

        private async Task Write(ParquetRowGroupWriter group, T[] values, int[] repetition, int count)
        {
            if (!_list)
            {
                await group.WriteAsync<T>(_values, values.AsMemory(0, count));
                return;
            }
            // The list itself may be null in the schema, so its levels are needed even though every value is
            // present. One array serves every write: they run one at a time.
            if (_definition.Length < count)
                _definition = new int[values.Length];
            _definition.AsSpan(0, count).Fill(_values.MaxDefinitionLevel);
            await group.WriteAllPartsAsync<T>(_values, values.AsMemory(0, count), _definition.AsMemory(0, count), repetition.AsMemory(0, count), CancellationToken.None);
        }
    }

    private sealed class TextColumn(TextColumnReader reader) : ParquetColumn
    {
        private readonly DataField<string> _field = new(reader.Name);
        private List<string> _values = [], _spare = [];

        public override Field Field => _field;

        // A guess: pass-through columns are mostly ids and paths.
        public override int BytesPerRow => 64;

        public override void Append() => _values.Add(reader.Value);

        public override Func<ParquetRowGroupWriter, Task> Take()
        {
            var values = _values;
            (_values, _spare) = (_spare, values);
            _values.Clear();
            return group => group.WriteAsync(_field, values);
        }
    }
}
