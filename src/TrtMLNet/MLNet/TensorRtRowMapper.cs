using Microsoft.ML;
using Microsoft.ML.Data;
using TrtMLNet.Scoring;

namespace TrtMLNet;

/// <summary>Row-to-row mapping for PredictionEngine: each row is scored when one of its outputs is read.</summary>
internal sealed class TensorRtRowMapper : IRowToRowMapper
{
    private readonly TensorRtTransformer _transformer;

    public TensorRtRowMapper(TensorRtTransformer transformer, DataViewSchema inputSchema)
    {
        _transformer = transformer;
        InputSchema = inputSchema;
        OutputSchema = transformer.GetOutputSchema(inputSchema);
    }

    public DataViewSchema InputSchema { get; }

    public DataViewSchema OutputSchema { get; }

    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns)
    {
        var needed = new HashSet<int>();
        foreach (var column in dependingColumns)
        {
            if (column.Index < InputSchema.Count)
                needed.Add(column.Index);
            else
                foreach (var input in _transformer.Fitted.Shapes.Inputs)
                    needed.Add(InputSchema[input.Column].Index);
        }
        return needed.Order().Select(i => InputSchema[i]);
    }

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
    {
        var active = new bool[OutputSchema.Count];
        foreach (var column in activeColumns)
            active[column.Index] = true;
        return new Row(_transformer.Fitted, OutputSchema, input, active);
    }

    private sealed class Row : DataViewRow
    {
        private readonly DataViewRow _input;
        private readonly bool[] _active;
        private readonly RowScorer? _scorer;

        public Row(FittedModel scorer, DataViewSchema schema, DataViewRow input, bool[] active)
        {
            Schema = schema;
            _input = input;
            _active = active;
            var outputs = active[input.Schema.Count..];
            if (outputs.Any(a => a))
                _scorer = new RowScorer(scorer, input, outputs);
        }

        public override DataViewSchema Schema { get; }

        public override long Position => _input.Position;

        public override long Batch => _input.Batch;

        public override ValueGetter<DataViewRowId> GetIdGetter() => _input.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) => _active[column.Index];

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!_active[column.Index])
                throw new InvalidOperationException($"Column '{column.Name}' is not active in this row.");
            if (column.Index < _input.Schema.Count)
                return _input.GetGetter<TValue>(_input.Schema[column.Index]);
            return _scorer!.OutputGetterFor(column.Index - _input.Schema.Count) as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"Column '{column.Name}' holds {column.Type}, not {typeof(TValue).Name}.");
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                _scorer?.Dispose();
            base.Dispose(disposing);
        }
    }
}
