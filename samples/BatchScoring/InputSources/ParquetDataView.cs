using Microsoft.ML;
using Microsoft.ML.Data;
using Parquet;
using Parquet.Schema;

namespace BatchScoring.InputSources;

/// <summary>The file columns that feed one model input, and how many values each row gives it.</summary>
public sealed record ParquetTensorSource(TensorSignature Tensor, IReadOnlyList<DataField> Fields, bool FromList, int RowSize);

/// <summary>The column carried through to the output, served as text.</summary>
public sealed record ParquetIdSource(string Name, DataField Field);

/// <summary>
/// A Parquet file as an IDataView that holds one row group in memory at a time: a cursor reads the
/// next row group's active columns when it steps past the current one. One column per model input,
/// of the tensor's element type (a vector unless a single number per row), the id as text, and the
/// <see cref="RowTracking"/> columns. Rows that cannot be fed faithfully (a null in an integer input,
/// a list of the wrong length, a row group that cannot be decoded) are reported to the
/// <see cref="BadRowSink"/> and never served.
/// </summary>
public sealed class ParquetDataView : SourceDataView
{
    private readonly string _path;
    private readonly IReadOnlyList<ParquetTensorSource> _tensors;
    private readonly ParquetIdSource? _id;
    private readonly IReadOnlyList<ParquetGroupRange> _groups;
    private readonly BadRowSink _badRows;

    public ParquetDataView(string path, IReadOnlyList<ParquetTensorSource> tensors, ParquetIdSource? id, IReadOnlyList<ParquetGroupRange> groups, BadRowSink badRows)
        : base(builder => AddColumns(builder, tensors, id))
    {
        _path = path;
        _tensors = tensors;
        _id = id;
        _groups = groups;
        _badRows = badRows;
    }

    private static void AddColumns(DataViewSchema.Builder builder, IReadOnlyList<ParquetTensorSource> tensors, ParquetIdSource? id)
    {
        foreach (var t in tensors)
        {
            var item = ItemType(t.Tensor.ElementType);
            builder.AddColumn(t.Tensor.Name, t.RowSize == 1 && !t.FromList ? item : new VectorDataViewType(item, t.RowSize));
        }
        if (id is not null)
            builder.AddColumn(id.Name, TextDataViewType.Instance);
    }

    /// <summary>Unknown up front: bad rows are left out as they are found.</summary>
    public override long? GetRowCount() => null;

    public override DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
        new Cursor(this, columnsNeeded.Select(c => c.Index).ToHashSet());

    public static PrimitiveDataViewType ItemType(Type t) =>
        t == typeof(float) ? NumberDataViewType.Single
        : t == typeof(double) ? NumberDataViewType.Double
        : t == typeof(long) ? NumberDataViewType.Int64
        : t == typeof(int) ? NumberDataViewType.Int32
        : t == typeof(byte) ? NumberDataViewType.Byte
        : t == typeof(bool) ? BooleanDataViewType.Instance
        : throw new UsageException($"Element type {t.Name} cannot be read.");

    private sealed class Cursor : SourceCursor
    {
        private readonly ParquetDataView _view;
        private readonly ParquetReader _reader;
        private readonly ParquetColumnLoader?[] _loaders;
        private readonly string _fileName;
        private int _group = -1;
        private int _row = -1;
        private long _rowsInGroup;
        private RowGroupIssues? _issues;

        public Cursor(ParquetDataView view, HashSet<int> active)
            : base(view.Schema)
        {
            _view = view;
            _fileName = $"'{Path.GetFileName(view._path)}'";
            _reader = ParquetReader.CreateAsync(view._path).GetAwaiter().GetResult();
            _loaders = new ParquetColumnLoader?[view._tensors.Count + 1];
            // The tensors are always loaded: a bad value must be found whichever columns the caller reads.
            for (var i = 0; i < view._tensors.Count; i++)
                _loaders[i] = ParquetColumnLoader.ForTensor(view._tensors[i]);
            if (view._id is not null && active.Contains(view._tensors.Count))
                _loaders[view._tensors.Count] = new ParquetIdLoader(view._id);
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            Delegate getter = column.Name switch
            {
                RowTracking.Row => (ValueGetter<long>)((ref long v) => v = CurrentRow),
                RowTracking.ResumeAt => (ValueGetter<long>)((ref long v) => v = CurrentRow + 1),
                RowTracking.Missing => (ValueGetter<int>)((ref int v) => v = _issues!.Missing[_row]),
                _ => (_loaders[column.Index] ?? throw new InvalidOperationException($"Column '{column.Name}' is not active in this cursor.")).Getter(() => _row),
            };
            return getter as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"Column '{column.Name}' holds {column.Type}, not {typeof(TValue).Name}.");
        }

        private long CurrentRow => _view._groups[_group].FirstRow + _row;

        public override bool MoveNext()
        {
            while (true)
            {
                _row++;
                while (_row >= _rowsInGroup)
                {
                    if (++_group >= _view._groups.Count)
                        return false;
                    LoadGroup();
                    _row = (int)_view._groups[_group].Skip;
                }
                if (_issues!.BadRowAt(_row) is { } bad)
                {
                    _view._badRows.Report(bad);
                    continue;
                }
                _position++;
                return true;
            }
        }

        private void LoadGroup()
        {
            var range = _view._groups[_group];
            var rows = checked((int)range.Rows);
            _rowsInGroup = rows;
            _issues = new RowGroupIssues(_fileName, range, rows);
            string? column = null;
            try
            {
                using var group = _reader.OpenRowGroupReader(range.Index);
                foreach (var loader in _loaders)
                {
                    column = loader?.Name;
                    loader?.Load(group, rows, _issues);
                }
            }
            catch (Exception e) when (e is not (UsageException or BadRowException or OutOfMemoryException))
            {
                // Corrupt pages, a bad header, a codec that fails: the group's rows cannot be trusted.
                _issues.MarkAllBad(rows, column, $"the row group cannot be decoded ({e.GetType().Name}: {e.Message})");
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                _reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
            base.Dispose(disposing);
        }
    }
}
