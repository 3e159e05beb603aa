using Microsoft.ML;

namespace TrtMLNet.Scoring;

/// <summary>
/// Scores one row at a time, when an output of that row is first read: what PredictionEngine and other
/// row-to-row users need. It is a batch of one (padded when the model fixes a larger batch) on a
/// session of one slot, on the same lanes as the batched cursors.
/// </summary>
internal sealed class RowScorer : IDisposable
{
    private readonly FittedModel _model;
    private readonly ScoringSession _session;
    private readonly DataViewRow _input;
    private readonly bool[] _activeOutputs;
    private readonly InputFiller[] _fillers;
    private long _scored = -1;

    public RowScorer(FittedModel model, DataViewRow input, bool[] activeOutputs)
    {
        _session = new ScoringSession(model, slots: 1);
        try
        {
            _fillers = model.Shapes.Inputs.Select((_, i) => InputFiller.Create(model, i, input, slots: 1)).ToArray();
        }
        catch
        {
            _session.Dispose();
            throw;
        }
        _model = model;
        _input = input;
        _activeOutputs = activeOutputs;
    }

    public Delegate OutputGetterFor(int output) =>
        OutputGetter.Create(_model.Shapes.Outputs[output], () =>
        {
            var slot = ScoreCurrentRow();
            return slot.OutputRow(output, 0);
        });

    private BatchSlot ScoreCurrentRow()
    {
        ObjectDisposedException.ThrowIf(_session.IsDisposed, this);
        var slot = _session.Slots[0];
        if (_scored == _input.Position)
            return slot;
        slot.EnsureStaging();
        slot.FillRow(0, _fillers, _input.Position);
        slot.Rows = 1;
        slot.FinishFill(_fillers, 1);
        _session.Submit(slot, _activeOutputs);
        _session.Wait(slot);
        _scored = _input.Position;
        return slot;
    }

    public void Dispose()
    {
        _session.Dispose();
        foreach (var filler in _fillers)
            filler.Dispose();
    }
}
