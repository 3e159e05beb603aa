using Microsoft.ML;
using Microsoft.ML.Data;

namespace TrtMLNet.Benchmarks;

/// <summary>
/// One float vector column held in memory. Its getter copies each row into the caller's buffer, as ML.NET's
/// own sources and its cache do; with <paramref name="lend"/> it hands out the row's array itself (no copy),
/// which the IDataView contract allows a source whose rows never change.
/// </summary>
internal sealed class InMemoryVectors(DataViewSchema schema, IReadOnlyList<float[]> rows, bool lend = false) : IDataView
{
    public bool CanShuffle => false;

    public DataViewSchema Schema => schema;

    public long? GetRowCount() => rows.Count;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) => new Cursor(schema, rows, lend);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => [new Cursor(schema, rows, lend)];

    private sealed class Cursor(DataViewSchema schema, IReadOnlyList<float[]> rows, bool lend) : DataViewRowCursor
    {
        private int _row = -1;

        public override DataViewSchema Schema => schema;

        public override long Position => _row;

        public override long Batch => 0;

        public override bool IsColumnActive(DataViewSchema.Column column) => true;

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = new DataViewRowId((ulong)_row, 0);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) =>
            (ValueGetter<TValue>)(Delegate)new ValueGetter<VBuffer<float>>((ref VBuffer<float> value) =>
            {
                var source = rows[_row];
                if (lend)
                {
                    value = new VBuffer<float>(source.Length, source);
                    return;
                }
                var editor = VBufferEditor.Create(ref value, source.Length);
                source.CopyTo(editor.Values);
                value = editor.Commit();
            });

        public override bool MoveNext() => ++_row < rows.Count;
    }
}
