using Microsoft.ML;
using Microsoft.ML.Data;

namespace BatchScoring.InputSources;

/// <summary>
/// What a <see cref="CsvDataView"/> reads: the file, how its columns feed the model's inputs, and the
/// byte range of lines to read (a shard's, from where a resumed run starts).
/// </summary>
/// <param name="Start">A line start: the first line to read.</param>
/// <param name="End">Lines starting at or after this offset are left to the next shard.</param>
/// <param name="FirstLine">The line number (1-based, the header is line 1) of the line at <paramref name="Start"/>.</param>
public sealed record CsvLayout(string Path, char Separator, int FieldCount, IReadOnlyList<InputBinding> Inputs, FileColumn? Id, long Start, long End, long FirstLine);

/// <summary>
/// A CSV file as an IDataView, read strictly: a line whose field count differs from the header's, or
/// a cell that is not a number of the input's type, is a bad row, reported to the <see cref="BadRowSink"/>
/// with its line, column and value (it stops the job or is skipped); nothing becomes NaN silently.
/// Empty and NaN cells of float inputs are fed as NaN and counted per row.
/// </summary>
public sealed class CsvDataView : SourceDataView
{
    private readonly CsvLayout _layout;
    private readonly BadRowSink _badRows;
    private readonly string _fileName;

    public CsvDataView(CsvLayout layout, BadRowSink badRows)
        : base(builder => AddColumns(builder, layout))
    {
        _layout = layout;
        _badRows = badRows;
        _fileName = $"'{Path.GetFileName(layout.Path)}'";
    }

    private static void AddColumns(DataViewSchema.Builder builder, CsvLayout layout)
    {
        foreach (var input in layout.Inputs)
        {
            var item = ParquetDataView.ItemType(input.Tensor.ElementType);
            builder.AddColumn(input.Tensor.Name, input.Sources.Count == 1 ? item : new VectorDataViewType(item, input.Sources.Count));
        }
        if (layout.Id is { } id)
            builder.AddColumn(id.Name, TextDataViewType.Instance);
    }

    public override long? GetRowCount() => null;

    public override DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) => new Cursor(this);

    private sealed class Cursor : SourceCursor
    {
        private readonly CsvDataView _view;
        private readonly CsvLineReader _reader;
        private readonly TensorCells[] _tensors;
        private string _id = "";
        private long _line;
        private long _row;
        private long _resumeAt;
        private int _missing;

        public Cursor(CsvDataView view)
            : base(view.Schema)
        {
            _view = view;
            var layout = view._layout;
            _reader = new CsvLineReader(layout.Path, layout.Start, layout.End);
            _line = layout.FirstLine;
            _tensors = layout.Inputs.Select(TensorCells.For).ToArray();
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            var tensors = _view._layout.Inputs.Count;
            Delegate getter = column.Index < tensors ? _tensors[column.Index].Getter()
                : column.Name == RowTracking.Row ? (ValueGetter<long>)((ref long v) => v = _row)
                : column.Name == RowTracking.ResumeAt ? (ValueGetter<long>)((ref long v) => v = _resumeAt)
                : column.Name == RowTracking.Missing ? (ValueGetter<int>)((ref int v) => v = _missing)
                : (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> v) => v = _id.AsMemory());
            return getter as ValueGetter<TValue> ?? throw new InvalidOperationException($"Column '{column.Name}' holds {column.Type}, not {typeof(TValue).Name}.");
        }

        public override bool MoveNext()
        {
            var layout = _view._layout;
            while (_reader.TryReadLine(out var line, out _, out var next))
            {
                var lineNumber = _line++;
                if (string.IsNullOrWhiteSpace(line))
                    continue;
                if (Parse(line, lineNumber, layout))
                {
                    _row = lineNumber;
                    _resumeAt = next;
                    _position++;
                    return true;
                }
            }
            return false;
        }

        /// <summary>Reads the line into the tensors' cells; false (after reporting it) when it is a bad row.</summary>
        private bool Parse(string line, long lineNumber, CsvLayout layout)
        {
            var fields = CsvFields.Split(line, layout.Separator);
            if (fields.Count != layout.FieldCount)
            {
                Report(lineNumber, null, null, $"{fields.Count} fields, but the header names {layout.FieldCount} columns (separator '{layout.Separator}')");
                return false;
            }
            _missing = 0;
            foreach (var tensor in _tensors)
            {
                if (tensor.Read(fields) is { } bad)
                {
                    Report(lineNumber, bad.Column, fields[bad.Column.Index], $"{bad.Error}; it feeds the model's input {tensor.Binding.Tensor}");
                    return false;
                }
                _missing += tensor.Missing;
            }
            if (layout.Id is { } id)
                _id = fields[id.Index];
            return true;
        }

        private void Report(long line, FileColumn? column, string? value, string reason) =>
            _view._badRows.Report(new BadRow(line, _view._fileName, $"line {line}", column?.Name, value, reason));

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                _reader.Dispose();
            base.Dispose(disposing);
        }
    }

    /// <summary>One model input's values for the current line, read from its file columns.</summary>
    private abstract class TensorCells(InputBinding binding)
    {
        public InputBinding Binding { get; } = binding;

        /// <summary>Missing float cells in the current line.</summary>
        public int Missing { get; protected set; }

        /// <summary>Reads the input's cells of <paramref name="fields"/>; the first bad one, or null.</summary>
        public abstract (FileColumn Column, string Error)? Read(List<string> fields);

        public abstract Delegate Getter();

        public static TensorCells For(InputBinding binding)
        {
            var t = binding.Tensor.ElementType;
            if (t == typeof(float)) return new TensorCells<float>(binding);
            if (t == typeof(double)) return new TensorCells<double>(binding);
            if (t == typeof(long)) return new TensorCells<long>(binding);
            if (t == typeof(int)) return new TensorCells<int>(binding);
            if (t == typeof(byte)) return new TensorCells<byte>(binding);
            return new TensorCells<bool>(binding);
        }
    }

    private sealed class TensorCells<T>(InputBinding binding) : TensorCells(binding)
    {
        private readonly T[] _values = new T[binding.Sources.Count];

        public override (FileColumn Column, string Error)? Read(List<string> fields)
        {
            Missing = 0;
            for (var i = 0; i < _values.Length; i++)
            {
                var source = Binding.Sources[i];
                var cell = CsvFields.Read<T>(fields[source.Index]);
                if (cell.Error is { } error)
                    return (source, error);
                _values[i] = cell.Value;
                if (cell.Missing)
                    Missing++;
            }
            return null;
        }

        public override Delegate Getter()
        {
            if (_values.Length == 1)
                return (ValueGetter<T>)((ref T value) => value = _values[0]);
            return (ValueGetter<VBuffer<T>>)((ref VBuffer<T> value) =>
            {
                var editor = VBufferEditor.Create(ref value, _values.Length);
                _values.CopyTo(editor.Values);
                value = editor.Commit();
            });
        }
    }
}
