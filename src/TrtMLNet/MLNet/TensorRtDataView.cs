using Microsoft.ML;
using TrtMLNet.Scoring;

namespace TrtMLNet;

/// <summary>
/// The data a <see cref="TensorRtTransformer"/> returns: the source's columns and the model's outputs.
/// Nothing runs until a cursor moves, and a cursor scores only when one of the outputs is active.
/// </summary>
internal sealed class TensorRtDataView : IDataView
{
    private readonly TensorRtTransformer _transformer;
    private readonly IDataView _source;

    public TensorRtDataView(TensorRtTransformer transformer, IDataView source)
    {
        _transformer = transformer;
        _source = source;
        Schema = transformer.GetOutputSchema(source.Schema);
    }

    public bool CanShuffle => _source.CanShuffle;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _source.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var (active, sourceColumns) = Plan(columnsNeeded);
        return new TensorRtCursor(_transformer.Fitted, Schema, _source.GetRowCursor(sourceColumns, rand), active);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
    {
        var (active, sourceColumns) = Plan(columnsNeeded);
        // Each cursor of the set batches on its own and holds its own staging; the lanes are shared.
        var sources = _source.GetRowCursorSet(sourceColumns, n, rand);
        var cursors = new DataViewRowCursor[sources.Length];
        try
        {
            for (var i = 0; i < sources.Length; i++)
                cursors[i] = new TensorRtCursor(_transformer.Fitted, Schema, sources[i], active);
            return cursors;
        }
        catch
        {
            foreach (var cursor in cursors) cursor?.Dispose();
            foreach (var source in sources) source.Dispose();
            throw;
        }
    }

    /// <summary>Which of our columns are active, and which source columns that takes.</summary>
    private (bool[] Active, List<DataViewSchema.Column> SourceColumns) Plan(IEnumerable<DataViewSchema.Column> columnsNeeded)
    {
        var active = new bool[Schema.Count];
        foreach (var column in columnsNeeded)
            active[column.Index] = true;
        var sourceCount = _source.Schema.Count;
        var needed = new HashSet<int>(Enumerable.Range(0, sourceCount).Where(i => active[i]));
        if (Enumerable.Range(sourceCount, Schema.Count - sourceCount).Any(i => active[i]))
            foreach (var input in _transformer.Fitted.Shapes.Inputs)
                needed.Add(_source.Schema[input.Column].Index);
        return (active, needed.Order().Select(i => _source.Schema[i]).ToList());
    }
}
