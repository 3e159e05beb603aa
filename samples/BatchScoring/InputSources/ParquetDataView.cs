using System.Globalization;
using System.Numerics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Parquet;
using Parquet.Data;
using Parquet.Schema;

namespace BatchScoring.InputSources;

/// <summary>The file columns that feed one model input, and how many values each row gives it.</summary>
public sealed record ParquetTensorSource(TensorSignature Tensor, IReadOnlyList<DataField> Fields, bool FromList, int RowSize);

/// <summary>The column carried through to the output, served as text.</summary>
public sealed record ParquetIdSource(string Name, DataField Field);

/// <summary>
/// A Parquet file as an IDataView that holds one row group in memory at a time: a cursor reads the
/// next row group's active columns when it steps past the current one. One column per model input,
/// of the tensor's element type (a vector unless a single number per row), and the id as text.
/// </summary>
public sealed class ParquetDataView : IDataView
{
    private readonly string _path;
    private readonly IReadOnlyList<ParquetTensorSource> _tensors;
    private readonly ParquetIdSource? _id;
    private readonly long[] _rowGroupRows;

    public ParquetDataView(string path, IReadOnlyList<ParquetTensorSource> tensors, ParquetIdSource? id, long[] rowGroupRows)
    {
        _path = path;
        _tensors = tensors;
        _id = id;
        _rowGroupRows = rowGroupRows;
        var builder = new DataViewSchema.Builder();
        foreach (var t in tensors)
        {
            var item = ItemType(t.Tensor.ElementType);
            builder.AddColumn(t.Tensor.Name, t.RowSize == 1 && !t.FromList ? item : new VectorDataViewType(item, t.RowSize));
        }
        if (id is not null)
            builder.AddColumn(id.Name, TextDataViewType.Instance);
        Schema = builder.ToSchema();
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _rowGroupRows.Sum();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
        new Cursor(this, columnsNeeded.Select(c => c.Index).ToHashSet());

    // Row groups are read in order by one cursor; splitting them among cursors would not pay for a scoring job.
    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private static PrimitiveDataViewType ItemType(Type t) =>
        t == typeof(float) ? NumberDataViewType.Single
        : t == typeof(double) ? NumberDataViewType.Double
        : t == typeof(long) ? NumberDataViewType.Int64
        : t == typeof(int) ? NumberDataViewType.Int32
        : t == typeof(byte) ? NumberDataViewType.Byte
        : t == typeof(bool) ? BooleanDataViewType.Instance
        : throw new UsageException($"Element type {t.Name} cannot be read from Parquet.");

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly ParquetDataView _view;
        private readonly ParquetReader _reader;
        private readonly ColumnLoader?[] _loaders;
        private int _group = -1;
        private int _row = -1;
        private long _rowsInGroup;
        private long _position = -1;

        public Cursor(ParquetDataView view, HashSet<int> active)
        {
            _view = view;
            _reader = ParquetReader.CreateAsync(view._path).GetAwaiter().GetResult();
            _loaders = new ColumnLoader?[view.Schema.Count];
            for (var i = 0; i < view._tensors.Count; i++)
                if (active.Contains(i))
                    _loaders[i] = TensorLoader(view._tensors[i]);
            if (view._id is not null && active.Contains(view._tensors.Count))
                _loaders[view._tensors.Count] = new IdLoader(view._id);
        }

        public override DataViewSchema Schema => _view.Schema;

        public override long Position => _position;

        public override long Batch => 0;

        public override bool IsColumnActive(DataViewSchema.Column column) => _loaders[column.Index] is not null;

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = new DataViewRowId((ulong)_position, 0);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            var loader = _loaders[column.Index] ?? throw new InvalidOperationException($"Column '{column.Name}' is not active in this cursor.");
            return loader.Getter(() => _row) as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"Column '{column.Name}' holds {column.Type}, not {typeof(TValue).Name}.");
        }

        public override bool MoveNext()
        {
            _row++;
            while (_row >= _rowsInGroup)
            {
                if (++_group >= _view._rowGroupRows.Length)
                    return false;
                LoadGroup();
                _row = 0;
            }
            _position++;
            return true;
        }

        private void LoadGroup()
        {
            using var group = _reader.OpenRowGroupReader(_group);
            _rowsInGroup = group.RowCount;
            foreach (var loader in _loaders)
                loader?.Load(group, checked((int)group.RowCount), _group);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                _reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
            base.Dispose(disposing);
        }

        private static ColumnLoader TensorLoader(ParquetTensorSource source)
        {
            var t = source.Tensor.ElementType;
            if (t == typeof(float)) return new TensorLoader<float>(source);
            if (t == typeof(double)) return new TensorLoader<double>(source);
            if (t == typeof(long)) return new TensorLoader<long>(source);
            if (t == typeof(int)) return new TensorLoader<int>(source);
            if (t == typeof(byte)) return new TensorLoader<byte>(source);
            return new BoolTensorLoader(source);
        }
    }

    /// <summary>One column's values for the current row group, and getters over them.</summary>
    private abstract class ColumnLoader
    {
        public abstract void Load(ParquetRowGroupReader group, int rows, int groupIndex);

        public abstract Delegate Getter(Func<int> currentRow);
    }

    private sealed class TensorLoader<T>(ParquetTensorSource source) : ColumnLoader where T : unmanaged, INumberBase<T>
    {
        private T[] _values = [];

        public T[] Values => _values;

        public int RowSize => source.RowSize;

        public bool IsScalar => source.RowSize == 1 && !source.FromList;

        public override void Load(ParquetRowGroupReader group, int rows, int groupIndex)
        {
            var needed = rows * source.RowSize;
            if (_values.Length < needed)
                _values = new T[needed];
            for (var f = 0; f < source.Fields.Count; f++)
            {
                var field = source.Fields[f];
                using var raw = group.ReadRawColumnDataBaseAsync(field).AsTask().GetAwaiter().GetResult();
                var context = new FillContext(field, source, rows, groupIndex);
                switch (raw)
                {
                    case RawColumnData<float> r: Fill<float>(r.Values, raw, context, f); break;
                    case RawColumnData<double> r: Fill<double>(r.Values, raw, context, f); break;
                    case RawColumnData<Half> r: Fill<Half>(r.Values, raw, context, f); break;
                    case RawColumnData<int> r: Fill<int>(r.Values, raw, context, f); break;
                    case RawColumnData<long> r: Fill<long>(r.Values, raw, context, f); break;
                    case RawColumnData<short> r: Fill<short>(r.Values, raw, context, f); break;
                    case RawColumnData<byte> r: Fill<byte>(r.Values, raw, context, f); break;
                    case RawColumnData<sbyte> r: Fill<sbyte>(r.Values, raw, context, f); break;
                    case RawColumnData<ushort> r: Fill<ushort>(r.Values, raw, context, f); break;
                    case RawColumnData<uint> r: Fill<uint>(r.Values, raw, context, f); break;
                    case RawColumnData<ulong> r: Fill<ulong>(r.Values, raw, context, f); break;
                    case RawColumnData<bool> r:
                        var bytes = new byte[r.Values.Length];
                        for (var i = 0; i < bytes.Length; i++) bytes[i] = r.Values[i] ? (byte)1 : (byte)0;
                        Fill<byte>(bytes, raw, context, f);
                        break;
                    default:
                        throw new UsageException($"Column '{field.Name}' holds {field.ClrType.Name}, which cannot feed the model's input {source.Tensor}.");
                }
            }
        }

        private readonly record struct FillContext(DataField Field, ParquetTensorSource Source, int Rows, int GroupIndex);

        /// <summary>
        /// Copies one file column into the row-major buffer: a list fills whole rows, a plain column one
        /// slot of each row. Values come compacted (nulls left out); definition levels say where the nulls were.
        /// </summary>
        private void Fill<TSource>(ReadOnlySpan<TSource> values, RawColumnData raw, FillContext c, int slot) where TSource : INumberBase<TSource>
        {
            var maxDefinition = c.Field.MaxDefinitionLevel;
            var definitions = maxDefinition > 0 ? raw.DefinitionLevels : default;
            var rowSize = c.Source.RowSize;
            var v = 0;
            if (!c.Source.FromList)
            {
                for (var row = 0; row < c.Rows; row++)
                    _values[row * rowSize + slot] = maxDefinition > 0 && definitions[row] < maxDefinition ? Missing(c, row) : T.CreateSaturating(values[v++]);
                return;
            }

            var repetitions = raw.RepetitionLevels;
            // A level one below the maximum is a null element when elements may be null; lower still, an empty or null list.
            var nullElement = c.Field.IsNullable ? maxDefinition - 1 : -1;
            int rowIndex = -1, count = 0;
            for (var i = 0; i < repetitions.Length; i++)
            {
                if (repetitions[i] == 0)
                {
                    if (rowIndex >= 0) CheckCount(c, rowIndex, count);
                    rowIndex++;
                    count = 0;
                }
                var d = maxDefinition > 0 ? definitions[i] : 0;
                if (d == maxDefinition || d == nullElement)
                {
                    if (count < rowSize)
                        _values[rowIndex * rowSize + count] = d == maxDefinition ? T.CreateSaturating(values[v++]) : Missing(c, rowIndex);
                    else if (d == maxDefinition)
                        v++;
                    count++;
                }
            }
            if (rowIndex >= 0) CheckCount(c, rowIndex, count);
        }

        private static void CheckCount(FillContext c, int row, int count)
        {
            if (count != c.Source.RowSize)
                throw new UsageException(
                    $"Row {row} of row group {c.GroupIndex} has {count} values in list column '{c.Source.Fields[0].Path}', but the model's input {c.Source.Tensor} takes {c.Source.RowSize} per row.");
        }

        private static T Missing(FillContext c, int row) =>
            typeof(T) == typeof(float) || typeof(T) == typeof(double)
                ? T.CreateSaturating(double.NaN)
                : throw new UsageException(
                    $"Row {row} of row group {c.GroupIndex} has a null in column '{c.Field.Path}', and the model's input {c.Source.Tensor} has no missing value for {c.Source.Tensor.TypeName}.");

        public override Delegate Getter(Func<int> currentRow)
        {
            if (IsScalar)
                return (ValueGetter<T>)((ref T value) => value = _values[currentRow()]);
            return (ValueGetter<VBuffer<T>>)((ref VBuffer<T> value) =>
            {
                var editor = VBufferEditor.Create(ref value, RowSize);
                _values.AsSpan(currentRow() * RowSize, RowSize).CopyTo(editor.Values);
                value = editor.Commit();
            });
        }
    }

    /// <summary>bool is no number type: its values load as bytes and are served as bools.</summary>
    private sealed class BoolTensorLoader(ParquetTensorSource source) : ColumnLoader
    {
        private readonly TensorLoader<byte> _bytes = new(source);

        public override void Load(ParquetRowGroupReader group, int rows, int groupIndex) => _bytes.Load(group, rows, groupIndex);

        public override Delegate Getter(Func<int> currentRow)
        {
            var size = _bytes.RowSize;
            if (_bytes.IsScalar)
                return (ValueGetter<bool>)((ref bool value) => value = _bytes.Values[currentRow()] != 0);
            return (ValueGetter<VBuffer<bool>>)((ref VBuffer<bool> value) =>
            {
                var editor = VBufferEditor.Create(ref value, size);
                var start = currentRow() * size;
                for (var i = 0; i < size; i++)
                    editor.Values[i] = _bytes.Values[start + i] != 0;
                value = editor.Commit();
            });
        }
    }

    /// <summary>The id column, as text whatever its type: it is only carried to the output.</summary>
    private sealed class IdLoader(ParquetIdSource source) : ColumnLoader
    {
        private string?[] _values = [];

        public override void Load(ParquetRowGroupReader group, int rows, int groupIndex)
        {
            if (ParquetInput.IsText(source.Field))
            {
                _values = new string?[rows];
                group.ReadAsync(source.Field, _values.AsMemory()).AsTask().GetAwaiter().GetResult();
                return;
            }
            using var raw = group.ReadRawColumnDataBaseAsync(source.Field).AsTask().GetAwaiter().GetResult();
            var nullable = source.Field.IsNullable;
            _values = raw switch
            {
                RawColumnData<long> r => Format(r, rows, nullable),
                RawColumnData<int> r => Format(r, rows, nullable),
                RawColumnData<short> r => Format(r, rows, nullable),
                RawColumnData<ulong> r => Format(r, rows, nullable),
                RawColumnData<uint> r => Format(r, rows, nullable),
                RawColumnData<double> r => Format(r, rows, nullable),
                RawColumnData<float> r => Format(r, rows, nullable),
                RawColumnData<bool> r => Format(r, rows, nullable),
                RawColumnData<DateTime> r => Format(r, rows, nullable),
                RawColumnData<Guid> r => Format(r, rows, nullable),
                _ => throw new UsageException($"The id column '{source.Name}' holds {source.Field.ClrType.Name}, which this job cannot carry; pick another with --id-column."),
            };
        }

        // NullableValues throws for a column that cannot hold nulls; Values is compacted for one that can.
        private static string?[] Format<TValue>(RawColumnData<TValue> raw, int rows, bool nullable) where TValue : struct =>
            (nullable ? raw.NullableValues.Take(rows).ToArray() : raw.Values[..rows].ToArray().Select(v => (TValue?)v).ToArray())
            .Select(v => v is IFormattable f ? f.ToString(null, CultureInfo.InvariantCulture) : v?.ToString()).ToArray();

        public override Delegate Getter(Func<int> currentRow) =>
            (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> value) => value = (_values[currentRow()] ?? "").AsMemory());
    }
}
