using Parquet;
using Parquet.Schema;

namespace BatchScoring.OutputWriters;

/// <summary>
/// Parquet, in row groups of <see cref="RowGroupSize"/> rows: vector outputs as list columns, single
/// values and pass-through columns as plain ones. Only one row group is held in memory.
/// </summary>
public sealed class ParquetOutputWriter : OutputWriter
{
    public const int RowGroupSize = 4096;

    private readonly FileStream _stream;
    private readonly ParquetWriter _writer;
    private readonly IReadOnlyList<ParquetColumn> _columns;
    private int _rows;

    public ParquetOutputWriter(string path, IReadOnlyList<ColumnReader> readers)
    {
        _columns = readers.Select(ParquetColumn.For).ToList();
        _stream = File.Create(path);
        _writer = ParquetWriter.CreateAsync(new ParquetSchema(_columns.Select(c => c.Field)), _stream).GetAwaiter().GetResult();
    }

    protected override async ValueTask WriteRowAsync()
    {
        foreach (var column in _columns)
            column.Append();
        if (++_rows == RowGroupSize)
            await FlushAsync();
    }

    protected override async ValueTask CompleteAsync()
    {
        if (_rows > 0)
            await FlushAsync();
    }

    private async Task FlushAsync()
    {
        using (var group = _writer.CreateRowGroup())
        {
            foreach (var column in _columns)
                await column.WriteAsync(group);
            group.CompleteValidate();
        }
        _rows = 0;
    }

    public override async ValueTask DisposeAsync()
    {
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
