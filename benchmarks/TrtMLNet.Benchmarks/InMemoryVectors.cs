using System.Diagnostics.CodeAnalysis;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace TrtMLNet.Benchmarks;

/// <summary>How <see cref="InMemoryVectors"/> hands out its rows.</summary>
internal enum RowSupply
{
    /// <summary>The getter copies each row into the caller's buffer, as ML.NET's own sources and its cache do.</summary>
    Copy,

    /// <summary>The getter hands out the row's array itself (no copy), which the IDataView contract allows a source whose rows never change.</summary>
    GetterLends,

    /// <summary>The getter copies, and the cursor lends the row's array to TrtMLNet (<see cref="IRowArrayLender"/>).</summary>
    Lender,
}

/// <summary>One float vector column held in memory, supplied as <paramref name="supply"/> says.</summary>
internal sealed class InMemoryVectors(DataViewSchema schema, IReadOnlyList<float[]> rows, RowSupply supply = RowSupply.Copy) : IDataView
{
    private readonly IReadOnlyList<float[]> _rows = rows;
    private readonly RowSupply _supply = supply;
    private long _getterCalls;

    public bool CanShuffle => false;

    public DataViewSchema Schema => schema;

    /// <summary>How many times any cursor's getter ran.</summary>
    public long GetterCalls => Interlocked.Read(ref _getterCalls);

    public long? GetRowCount() => _rows.Count;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) => new Cursor(this);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => [new Cursor(this)];

    private sealed class Cursor(InMemoryVectors view) : DataViewRowCursor, IRowArrayLender
    {
        private int _row = -1;

        public override DataViewSchema Schema => view.Schema;

        public override long Position => _row;

        public override long Batch => 0;

        public override bool IsColumnActive(DataViewSchema.Column column) => true;

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = new DataViewRowId((ulong)_row, 0);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) =>
            (ValueGetter<TValue>)(Delegate)new ValueGetter<VBuffer<float>>((ref VBuffer<float> value) =>
            {
                Interlocked.Increment(ref view._getterCalls);
                var source = view._rows[_row];
                if (view._supply == RowSupply.GetterLends)
                {
                    value = new VBuffer<float>(source.Length, source);
                    return;
                }
                var editor = VBufferEditor.Create(ref value, source.Length);
                source.CopyTo(editor.Values);
                value = editor.Commit();
            });

        public bool TryLend<T>(DataViewSchema.Column column, [NotNullWhen(true)] out T[]? values)
        {
            values = view._supply == RowSupply.Lender ? view._rows[_row] as T[] : null;
            return values is not null;
        }

        public override bool MoveNext() => ++_row < view._rows.Count;
    }
}
