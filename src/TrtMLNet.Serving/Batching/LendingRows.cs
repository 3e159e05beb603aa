using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace TrtMLNet.Serving.Batching;

/// <summary>
/// The rows of the batch a slot scores, as ML.NET's <c>LoadFromEnumerable</c> reads them, with cursors that
/// also lend the callers' arrays to TrtMLNet (<see cref="IRowArrayLender"/>). A TrtMLNet stage that reads
/// the pool's rows first then copies each large input (an image tensor) once, into pinned staging, not
/// first into a getter's buffer. Every other reader gets <c>LoadFromEnumerable</c>'s getters, which copy,
/// so no stage can write into a caller's array.
/// </summary>
internal sealed class LendingRows<TIn> : IDataView where TIn : class
{
    private readonly SwappableRows _rows = new();
    private readonly IDataView _inner;

    /// <summary>By column index: how to read a row's array for that column, or null where the member is not an array.</summary>
    private readonly Func<TIn, object?>?[] _arrays;

    public LendingRows(MLContext ml, SchemaDefinition definition)
    {
        _inner = ml.Data.LoadFromEnumerable(_rows, definition);
        _arrays = new Func<TIn, object?>?[_inner.Schema.Count];
        foreach (var column in definition)
        {
            Func<TIn, object?>? read = InputRows<TIn>.Member(column) switch
            {
                FieldInfo { FieldType.IsArray: true } f => row => f.GetValue(row),
                PropertyInfo { PropertyType.IsArray: true, CanRead: true } p => row => p.GetValue(row),
                _ => null,
            };
            if (_inner.Schema.GetColumnOrNull(column.ColumnName) is { } schemaColumn)
                _arrays[schemaColumn.Index] = read;
        }
    }

    /// <summary>The rows the next cursors read: one batch at a time.</summary>
    public ArraySegment<TIn> Current
    {
        get => _rows.Current;
        set => _rows.Current = value;
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema => _inner.Schema;

    public long? GetRowCount() => _rows.Current.Count;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
        new Cursor(this, _inner.GetRowCursor(columnsNeeded, rand), _rows.Current);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor(LendingRows<TIn> view, DataViewRowCursor inner, ArraySegment<TIn> rows) : DataViewRowCursor, IRowArrayLender
    {
        // LoadFromEnumerable reads the rows in order, one per MoveNext, so the current row is the inner cursor's position.
        public override DataViewSchema Schema => inner.Schema;

        public override long Position => inner.Position;

        public override long Batch => inner.Batch;

        public override ValueGetter<DataViewRowId> GetIdGetter() => inner.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) => inner.IsColumnActive(column);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) => inner.GetGetter<TValue>(column);

        public override bool MoveNext() => inner.MoveNext();

        public bool TryLend<T>(DataViewSchema.Column column, [NotNullWhen(true)] out T[]? values)
        {
            values = view._arrays[column.Index] is { } read && Position >= 0 && Position < rows.Count ? read(rows[(int)Position]) as T[] : null;
            return values is not null;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                inner.Dispose();
            base.Dispose(disposing);
        }
    }

    /// <summary>What the inner view reads: whatever batch is being scored now.</summary>
    private sealed class SwappableRows : IEnumerable<TIn>
    {
        public ArraySegment<TIn> Current { get; set; }

        public IEnumerator<TIn> GetEnumerator() => ((IEnumerable<TIn>)Current).GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
