using Microsoft.ML;
using Microsoft.ML.Data;

namespace TrtMLNet.Serving.Batching;

/// <summary>
/// One batch at a time through a fitted model, with ML.NET's public API only. The data view over the
/// rows, the model's transform of it and the typed reader are built once per slot, not per batch
/// (building them reflects over the row types and binds every stage's schema): a batch only swaps
/// the rows the view reads, then reads the model's outputs in order. The view lends the callers' arrays
/// to a TrtMLNet stage that reads them first (<see cref="LendingRows{TIn}"/>).
/// </summary>
internal sealed class ScoringSlot<TIn, TOut> where TIn : class where TOut : class, new()
{
    private readonly LendingRows<TIn> _rows;
    private readonly IEnumerable<TOut> _outputs;

    public ScoringSlot(MLContext ml, ITransformer model, SchemaDefinition inputDefinition)
    {
        _rows = new LendingRows<TIn>(ml, inputDefinition);
        var scored = model.Transform(_rows);
        _outputs = ml.Data.CreateEnumerable<TOut>(scored, reuseRowObject: false);
    }

    /// <summary>Scores <paramref name="inputs"/> and gives one output per input, in order.</summary>
    public TOut[] Score(ArraySegment<TIn> inputs)
    {
        var outputs = new TOut[inputs.Count];
        _rows.Current = inputs;
        try
        {
            var i = 0;
            foreach (var output in _outputs)
            {
                // A stage that drops or adds rows (a filter) would break the one-to-one mapping to callers.
                if (i == outputs.Length)
                    throw new InvalidOperationException($"The model gave more rows than the {inputs.Count} it was given: a pool needs a model that maps each row to one row (no " +
                        $"filters).");
                outputs[i++] = output;
            }
            if (i != outputs.Length)
                throw new InvalidOperationException(
                    $"The model gave {i} rows for the {inputs.Count} it was given: a pool needs a model that maps each row to one row (no filters).");
            return outputs;
        }
        finally
        {
            _rows.Current = default;
        }
    }
}
