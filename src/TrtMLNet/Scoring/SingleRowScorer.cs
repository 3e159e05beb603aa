using Microsoft.ML;
using TrtMLNet.Execution;

namespace TrtMLNet.Scoring;

/// <summary>
/// Scores one row at a time, when an output of that row is first read: what PredictionEngine and other
/// row-to-row users need. It runs a batch of one (padded when the model fixes a larger batch) on the
/// same lanes as the batched cursors.
/// </summary>
internal sealed class SingleRowScorer : IDisposable
{
    private readonly BatchScorer _scorer;
    private readonly DataViewRow _input;
    private readonly bool[] _activeOutputs;
    private readonly InputFiller[] _fillers;
    private readonly BatchJob _job;
    private NativeBuffer? _staging;
    private long _scored = -1;
    private bool _disposed;

    public SingleRowScorer(BatchScorer scorer, DataViewRow input, bool[] activeOutputs)
    {
        if (!scorer.Runtime.TryAddReference())
            throw new ObjectDisposedException(nameof(TensorRtTransformer), "The TensorRtTransformer was disposed; fit the pipeline again to score.");
        _scorer = scorer;
        _input = input;
        _activeOutputs = activeOutputs;
        try
        {
            _fillers = scorer.Shapes.Inputs.Select(i => InputFiller.Create(input, i)).ToArray();
        }
        catch
        {
            scorer.Runtime.Release();
            throw;
        }
        _job = new BatchJob { Model = scorer.Runtime };
    }

    public Delegate OutputGetterFor(int output)
    {
        var shape = _scorer.Shapes.Outputs[output];
        var offset = _scorer.OutputOffset(output);
        return OutputGetter.Create(shape, () =>
        {
            ScoreCurrentRow();
            return Bytes(offset, shape.RowBytes);
        });
    }

    private void ScoreCurrentRow()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_scored == _input.Position)
            return;
        _staging ??= _scorer.Runtime.Pool.Staging.Rent(_scorer.SlotBytes);
        for (var i = 0; i < _fillers.Length; i++)
        {
            var input = _scorer.Shapes.Inputs[i];
            _fillers[i].Fill(Bytes(_scorer.InputOffset(i), input.RowBytes), _input.Position);
            // A model with a fixed batch takes the whole batch: the other rows are zeros.
            for (var pad = 1; pad < _scorer.Shapes.BatchSize && _scorer.Shapes.BatchKind == BatchKind.Fixed; pad++)
                Bytes(_scorer.InputOffset(i) + pad * input.RowBytes, input.RowBytes).Clear();
        }
        _scorer.Prepare(_job, _staging, 1, _activeOutputs);
        _scorer.Runtime.Pool.Submit(_job);
        _job.Wait();
        _scored = _input.Position;
    }

    private unsafe Span<byte> Bytes(long offset, long length) => new((byte*)_staging!.Pointer + offset, checked((int)length));

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _job.WaitQuietly();
        _job.Dispose();
        if (_staging is not null)
            _scorer.Runtime.Pool.Staging.Return(_staging);
        _scorer.Runtime.Release();
    }
}
