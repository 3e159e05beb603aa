using Microsoft.ML;
using Microsoft.ML.Data;

namespace BatchScoring.InputSources;

/// <summary>
/// What the job's input cursors share: one pass in order, every column active, one batch, and the row's
/// position as its id. A cursor advances <see cref="Position"/> for each row it serves.
/// </summary>
public abstract class SourceCursor(DataViewSchema schema) : DataViewRowCursor
{
    public override DataViewSchema Schema => schema;

    public override long Position => _position;

    public override long Batch => 0;

    /// <summary>The row served now: -1 before the first.</summary>
    protected long _position = -1;

    public override bool IsColumnActive(DataViewSchema.Column column) => true;

    public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = new DataViewRowId((ulong)_position, 0);
}
