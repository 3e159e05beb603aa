using Microsoft.ML;
using Microsoft.ML.Data;

namespace TrtMLNet.Scoring;

/// <summary>
/// Turns a stream of rows into batches on the device and back into rows, in order, for one cursor.
/// Staging slots rotate: while the rows of one batch are served, the next ones (ReadAheadBatches of
/// them) have already been read from the source and are in flight, so reading and filling batch j+1
/// and its copy to the device overlap batch j's compute and copy back.
///
/// Rows are read from the source ahead of the row being served; columns that pass through are cached
/// per row (<see cref="RowCache"/>) so they still match the row served.
/// </summary>
internal sealed class BatchPipeline : IDisposable
{
    private readonly FittedModel _model;
    private readonly ScoringSession _session;
    private readonly DataViewRow _source;
    private readonly Func<bool> _moveSource;
    private readonly bool[] _activeOutputs;
    private readonly bool _scoring;
    private readonly InputFiller[] _fillers;
    private readonly RowCache[] _caches;
    private readonly ValueGetter<DataViewRowId> _idGetter;
    private readonly DataViewRowId[] _ids;
    private readonly long[] _sourceBatch;
    private readonly Queue<BatchSlot> _inFlight = new();
    private readonly Stack<BatchSlot> _free = new();
    private readonly int _batchSize;
    private BatchSlot? _serving;
    private int _row = -1;
    private long _sourceRows;
    private bool _sourceDone;

    /// <param name="model">The fitted model.</param>
    /// <param name="source">The row whose values feed the model (a cursor).</param>
    /// <param name="moveSource">Advances the source; false when it has no more rows.</param>
    /// <param name="activeOutputs">Which of the model's outputs somebody reads; none means no scoring at all.</param>
    /// <param name="passThrough">Source columns to remember per row.</param>
    public BatchPipeline(FittedModel model, DataViewRow source, Func<bool> moveSource, bool[] activeOutputs, IEnumerable<DataViewSchema.Column> passThrough)
    {
        var slotCount = 1 + model.ReadAheadBatches; // at least 1: TensorRtOptions.Validate
        _session = new ScoringSession(model, slotCount);
        try
        {
            _model = model;
            _source = source;
            _moveSource = moveSource;
            _activeOutputs = activeOutputs;
            _scoring = activeOutputs.Any(a => a);
            _batchSize = model.Shapes.BatchSize;
            _fillers = _scoring ? model.Shapes.Inputs.Select((_, i) => InputFiller.Create(model, i, source, slotCount)).ToArray() : [];
            _caches = passThrough.Select(c => RowCache.Create(source, c, slotCount * _batchSize)).ToArray();
            _idGetter = source.GetIdGetter();
            _ids = new DataViewRowId[slotCount * _batchSize];
            _sourceBatch = new long[slotCount * _batchSize];
            foreach (var slot in _session.Slots)
                _free.Push(slot);
        }
        catch
        {
            _session.Dispose();
            foreach (var filler in _fillers ?? [])
                filler.Dispose();
            throw;
        }
    }

    /// <summary>Index of the current row within the slots' storage.</summary>
    public int CurrentIndex => _serving!.Index * _batchSize + _row;

    public long CurrentSourceBatch => _sourceBatch[CurrentIndex];

    public DataViewRowId CurrentId => _ids[CurrentIndex];

    public bool MoveNext()
    {
        ObjectDisposedException.ThrowIf(_session.IsDisposed, this);
        if (_serving is not null)
        {
            if (++_row < _serving.Rows)
                return true;
            _free.Push(_serving);
            _serving = null;
        }
        // Keep every free slot busy: fill and launch the batches after the one to be served next.
        while (_free.Count > 0 && !_sourceDone)
        {
            var slot = _free.Pop();
            if (Fill(slot) == 0)
            {
                _free.Push(slot);
                break;
            }
            if (_scoring)
                _session.Submit(slot, _activeOutputs);
            _inFlight.Enqueue(slot);
        }
        if (_inFlight.Count == 0)
            return false;
        _serving = _inFlight.Dequeue();
        if (_scoring)
            _session.Wait(_serving);
        _row = 0;
        return true;
    }

    /// <summary>A getter that serves a pass-through column from the cache.</summary>
    public Delegate PassThroughGetter(int column) =>
        _caches.First(c => c.Column == column).CreateGetter(() => CurrentIndex);

    /// <summary>A getter for the model's output <paramref name="output"/> at the current row.</summary>
    public Delegate OutputGetterFor(int output) =>
        OutputGetter.Create(_model.Shapes.Outputs[output], () => _serving!.OutputRow(output, _row));

    private int Fill(BatchSlot slot)
    {
        var started = _model.TimesBatches ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;
        if (_scoring)
            slot.EnsureStaging();
        var rows = 0;
        var baseIndex = slot.Index * _batchSize;
        while (rows < _batchSize && _moveSource())
        {
            var index = baseIndex + rows;
            slot.FillRow(rows, _fillers, _sourceRows);
            foreach (var cache in _caches)
                cache.Read(index);
            _idGetter(ref _ids[index]);
            _sourceBatch[index] = _source.Batch;
            rows++;
            _sourceRows++;
        }
        if (rows < _batchSize)
            _sourceDone = true;
        slot.Rows = rows;
        if (rows > 0 && _scoring)
            slot.FinishFill(_fillers, rows);
        if (started != 0)
            slot.Job.Timings.HostFillMs = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        return rows;
    }

    public void Dispose()
    {
        // The session waits for batches still on the device, which may read the fillers' staging.
        _session.Dispose();
        foreach (var filler in _fillers)
            filler.Dispose();
    }
}
