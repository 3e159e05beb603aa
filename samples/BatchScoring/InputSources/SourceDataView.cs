using Microsoft.ML;
using Microsoft.ML.Data;

namespace BatchScoring.InputSources;

/// <summary>
/// What the job's input views share (their cursors share <see cref="SourceCursor"/>): the source's own
/// columns followed by the <see cref="RowTracking"/> columns, never shuffled, and one cursor even when a
/// set is asked for: a scoring job reads its source in order, and splitting a file among cursors would
/// not pay for it.
/// </summary>
public abstract class SourceDataView : IDataView
{
    /// <param name="addColumns">Adds the source's own columns (static: the view is not constructed yet).</param>
    protected SourceDataView(Action<DataViewSchema.Builder> addColumns)
    {
        var builder = new DataViewSchema.Builder();
        addColumns(builder);
        RowTracking.AddColumns(builder);
        Schema = builder.ToSchema();
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    public abstract long? GetRowCount();

    public abstract DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => [GetRowCursor(columnsNeeded, rand)];
}
