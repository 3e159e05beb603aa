using Microsoft.ML;
using Microsoft.ML.Data;
using TrtMLNet.Execution;

namespace TrtMLNet.Scoring;

/// <summary>
/// Turns a stream of rows into batches on the device and back into rows, in order, for one cursor.
/// Staging slots rotate: while the rows of one batch are served, the next ones (ReadAheadBatches of
/// them) have already been read from the source and are in flight, so reading and filling batch j+1
/// and its copy to the device overlap batch j's compute and copy back.
///
/// Rows are read from the source a batch ahead of the row being served; columns that pass through
/// are cached per row (<see cref="RowCache"/>) so they still match the row served.
/// </summary>
internal sealed class BatchPipeline : IDisposable
{
    private readonly BatchScorer _scorer;
    private readonly DataViewRow _source;
    private readonly Func<bool> _moveSource;
    private readonly bool[] _activeOutputs;
    private readonly bool _scoring;
    private readonly InputFiller[] _fillers;
    private readonly RowCache[] _caches;
    private readonly ValueGetter<DataViewRowId> _idGetter;
    private readonly DataViewRowId[] _ids;
    private readonly long[] _sourceBatch;
    private readonly Slot[] _slots;
    private readonly Queue<Slot> _inFlight = new();
    private readonly Stack<Slot> _free = new();
    private readonly int _batchSize;
    private Slot? _serving;
    private int _row = -1;
    private long _sourceRows;
    private bool _sourceDone;
    private bool _disposed;

    /// <param name="scorer">The fitted model.</param>
    /// <param name="source">The row whose values feed the model (a cursor, or a single row).</param>
    /// <param name="moveSource">Advances the source; false when it has no more rows.</param>
    /// <param name="activeOutputs">Which of the model's outputs somebody reads; none means no scoring at all.</param>
    /// <param name="passThrough">Source columns to remember per row.</param>
    public BatchPipeline(BatchScorer scorer, DataViewRow source, Func<bool> moveSource, bool[] activeOutputs, IEnumerable<DataViewSchema.Column> passThrough)
    {
        if (!scorer.Runtime.TryAddReference())
            throw new ObjectDisposedException(nameof(TensorRtTransformer), "The TensorRtTransformer was disposed; fit the pipeline again to score.");
        try
        {
            _scorer = scorer;
            _source = source;
            _moveSource = moveSource;
            _activeOutputs = activeOutputs;
            _scoring = activeOutputs.Any(a => a);
            _batchSize = scorer.Shapes.BatchSize;
            var slotCount = 1 + Math.Max(1, scorer.ReadAheadBatches);
            _slots = new Slot[slotCount];
            _fillers = _scoring ? scorer.Shapes.Inputs.Select(i => InputFiller.Create(source, i)).ToArray() : [];
            _caches = passThrough.Select(c => RowCache.Create(source, c, slotCount * _batchSize)).ToArray();
            _idGetter = source.GetIdGetter();
            _ids = new DataViewRowId[slotCount * _batchSize];
            _sourceBatch = new long[slotCount * _batchSize];
            for (var i = 0; i < slotCount; i++)
                _free.Push(_slots[i] = new Slot(i, new BatchJob { Model = scorer.Runtime }));
        }
        catch
        {
            scorer.Runtime.Release();
            throw;
        }
    }

    /// <summary>Index of the current row within the two slots' storage.</summary>
    public int CurrentIndex => _serving!.Index * _batchSize + _row;

    public long CurrentSourceBatch => _sourceBatch[CurrentIndex];

    public DataViewRowId CurrentId => _ids[CurrentIndex];

    public bool MoveNext()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_serving is not null)
        {
            if (++_row < _serving.Rows)
                return true;
            _free.Push(_serving);
            _serving = null;
        }
        // Keep both slots busy: fill and launch the batches after the one to be served next.
        while (_free.Count > 0 && !_sourceDone)
        {
            var slot = _free.Pop();
            if (Fill(slot) == 0)
            {
                _free.Push(slot);
                break;
            }
            Launch(slot);
            _inFlight.Enqueue(slot);
        }
        if (_inFlight.Count == 0)
            return false;
        _serving = _inFlight.Dequeue();
        if (_scoring)
        {
            _serving.Job.Wait();
            _scorer.BatchTimed?.Invoke(_serving.Job.Timings, _serving.Rows);
        }
        _row = 0;
        return true;
    }

    /// <summary>A getter that serves a pass-through column from the cache.</summary>
    public Delegate PassThroughGetter(int column) =>
        _caches.First(c => c.Column == column).CreateGetter(() => CurrentIndex);

    /// <summary>A getter for the model's output <paramref name="output"/> at the current row.</summary>
    public Delegate OutputGetterFor(int output)
    {
        var shape = _scorer.Shapes.Outputs[output];
        var offset = _scorer.OutputOffset(output);
        return OutputGetter.Create(shape, () => _serving!.Bytes(offset + _row * shape.RowBytes, shape.RowBytes));
    }

    private int Fill(Slot slot)
    {
        var started = _scorer.BatchTimed is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
        if (_scoring)
            slot.EnsureStaging(_scorer);
        var rows = 0;
        var baseIndex = slot.Index * _batchSize;
        while (rows < _batchSize && _moveSource())
        {
            var index = baseIndex + rows;
            for (var i = 0; i < _fillers.Length; i++)
            {
                var input = _scorer.Shapes.Inputs[i];
                _fillers[i].Fill(slot.Bytes(_scorer.InputOffset(i) + rows * input.RowBytes, input.RowBytes), _sourceRows);
            }
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
        if (started != 0)
            slot.Job.Timings.HostFillMs = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (rows > 0 && _scoring && _scorer.Shapes.BatchKind == BatchKind.Fixed && rows < _batchSize)
        {
            // The model only takes full batches: pad with zeros, which are harmless to any layer, and trim later.
            for (var i = 0; i < _fillers.Length; i++)
            {
                var input = _scorer.Shapes.Inputs[i];
                for (var pad = rows; pad < _batchSize; pad++)
                    slot.Bytes(_scorer.InputOffset(i) + pad * input.RowBytes, input.RowBytes).Clear();
            }
        }
        return rows;
    }

    private void Launch(Slot slot)
    {
        if (!_scoring)
            return;
        _scorer.Prepare(slot.Job, slot.Staging!, slot.Rows, _activeOutputs);
        slot.Job.CollectTimings = _scorer.BatchTimed is not null;
        _scorer.Runtime.Pool.Submit(slot.Job);
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        // Batches still on the device write into staging: wait before the memory goes back.
        foreach (var slot in _slots)
        {
            slot.Job.WaitQuietly();
            slot.Job.Dispose();
            if (slot.Staging is not null)
                _scorer.Runtime.Pool.Staging.Return(slot.Staging);
        }
        _scorer.Runtime.Release();
    }

    private sealed class Slot(int index, BatchJob job)
    {
        public int Index { get; } = index;

        public BatchJob Job { get; } = job;

        public NativeBuffer? Staging { get; private set; }

        public int Rows { get; set; }

        public void EnsureStaging(BatchScorer scorer) =>
            Staging ??= scorer.Runtime.Pool.Staging.Rent(scorer.SlotBytes);

        public unsafe Span<byte> Bytes(long offset, long length) =>
            new((byte*)Staging!.Pointer + offset, checked((int)length));
    }
}
