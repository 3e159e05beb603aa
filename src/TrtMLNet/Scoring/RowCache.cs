using Microsoft.ML;
using Microsoft.ML.Data;

namespace TrtMLNet.Scoring;

/// <summary>
/// Keeps a pass-through column's values for the rows of one batch. The cursor reads a whole batch
/// from its source before serving the first of its rows, so columns that pass through unchanged must
/// be remembered row by row; vectors are deep-copied because a source may reuse its buffers.
/// </summary>
internal abstract class RowCache
{
    public static RowCache Create(DataViewRow row, DataViewSchema.Column column, int rows)
    {
        var type = column.Type is VectorDataViewType vector ? vector.ItemType.RawType : column.Type.RawType;
        var cacheType = column.Type is VectorDataViewType
            ? typeof(VectorCache<>).MakeGenericType(type)
            : typeof(ValueCache<>).MakeGenericType(type);
        return (RowCache)Activator.CreateInstance(cacheType, row, column, rows)!;
    }

    public abstract int Column { get; }

    /// <summary>Remembers the source's current value as row <paramref name="index"/> of the batch.</summary>
    public abstract void Read(int index);

    /// <summary>A getter that serves row <c>index()</c> of the batch.</summary>
    public abstract Delegate CreateGetter(Func<int> index);

    private sealed class ValueCache<T> : RowCache
    {
        private readonly ValueGetter<T> _getter;
        private readonly T[] _values;

        public ValueCache(DataViewRow row, DataViewSchema.Column column, int rows)
        {
            Column = column.Index;
            _getter = row.GetGetter<T>(column);
            _values = new T[rows];
        }

        public override int Column { get; }

        public override void Read(int index) => _getter(ref _values[index]);

        public override Delegate CreateGetter(Func<int> index) => new ValueGetter<T>((ref T value) => value = _values[index()]);
    }

    private sealed class VectorCache<T> : RowCache
    {
        private readonly ValueGetter<VBuffer<T>> _getter;
        private readonly VBuffer<T>[] _values;
        private VBuffer<T> _scratch;

        public VectorCache(DataViewRow row, DataViewSchema.Column column, int rows)
        {
            Column = column.Index;
            _getter = row.GetGetter<VBuffer<T>>(column);
            _values = new VBuffer<T>[rows];
        }

        public override int Column { get; }

        public override void Read(int index)
        {
            _getter(ref _scratch);
            _scratch.CopyTo(ref _values[index]);
        }

        public override Delegate CreateGetter(Func<int> index) => new ValueGetter<VBuffer<T>>((ref VBuffer<T> value) => _values[index()].CopyTo(ref value));
    }
}
