using Microsoft.ML;
using Microsoft.ML.Data;
using TrtMLNet.Scoring;

namespace TrtMLNet;

/// <summary>
/// A cursor that reads its source a batch ahead, scores batches on the device, and serves rows in
/// the source's order: pass-through columns from a per-row cache, outputs from the batch's staging.
/// </summary>
internal sealed class TensorRtCursor : DataViewRowCursor
{
    private readonly DataViewRowCursor _source;
    private readonly BatchPipeline _pipeline;
    private readonly bool[] _active;
    private readonly int _sourceCount;
    private long _position = -1;

    public TensorRtCursor(FittedModel scorer, DataViewSchema schema, DataViewRowCursor source, bool[] active)
    {
        Schema = schema;
        _source = source;
        _active = active;
        _sourceCount = source.Schema.Count;
        var activeOutputs = active[_sourceCount..];
        var passThrough = Enumerable.Range(0, _sourceCount).Where(i => active[i]).Select(i => source.Schema[i]);
        _pipeline = new BatchPipeline(scorer, source, source.MoveNext, activeOutputs, passThrough);
    }

    public override DataViewSchema Schema { get; }

    public override long Position => _position;

    /// <summary>The source's batch id of the current row, which is how ML.NET merges parallel cursors back in order.</summary>
    public override long Batch => _pipeline.CurrentSourceBatch;

    public override bool IsColumnActive(DataViewSchema.Column column) => _active[column.Index];

    public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = _pipeline.CurrentId;

    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
    {
        if (!_active[column.Index])
            throw new InvalidOperationException($"Column '{column.Name}' is not active in this cursor: ask for it when the cursor is made.");
        var getter = column.Index < _sourceCount
            ? _pipeline.PassThroughGetter(column.Index)
            : _pipeline.OutputGetterFor(column.Index - _sourceCount);
        return getter as ValueGetter<TValue>
            ?? throw new InvalidOperationException($"Column '{column.Name}' holds {column.Type}, not {typeof(TValue).Name}.");
    }

    public override bool MoveNext()
    {
        if (!_pipeline.MoveNext())
            return false;
        _position++;
        return true;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _pipeline.Dispose();
            _source.Dispose();
        }
        base.Dispose(disposing);
    }
}
