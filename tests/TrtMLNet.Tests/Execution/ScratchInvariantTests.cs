using Microsoft.ML;
using Microsoft.ML.Data;
using TrtMLNet.Tests.Support;

namespace TrtMLNet.Tests.Execution;

/// <summary>
/// The pool's invariant: a scratch slab serves at most one execution in flight. A marking engine
/// catches any overlap; many threads, parallel cursors, several transformers with different batch sizes
/// and fewer slabs than lanes make slabs change hands all the time. The negative test removes the fence
/// wait and must see the corruption, which shows the positive test can fail.
/// </summary>
[Collection(ScratchArenaCollection.Name)]
public class ScratchInvariantTests
{
    private const int Width = 8;

    private sealed class Row
    {
        [VectorType(Width)] public float[] x { get; set; } = [];
        public int Id { get; set; }
    }

    [Fact]
    public void NoSlabServesTwoExecutionsAtOnce()
    {
        var (engines, violations, executions) = Stress(skipFenceWait: false, TimeSpan.FromSeconds(6));
        Assert.True(executions > 200, $"Only {executions} executions ran: the stress did not stress.");
        Assert.Equal(0, violations);
        Assert.All(engines, e => Assert.Equal(0, e.ContextViolations));
    }

    [Fact]
    public void WithoutTheFenceWaitSlabsAreCorrupted()
    {
        var (_, violations, _) = Stress(skipFenceWait: true, TimeSpan.FromSeconds(20), stopAtFirstViolation: true);
        Assert.True(violations > 0, "Executions overlapped on a slab without the fence wait, yet the marking engine saw nothing: the invariant test would not catch a broken pool.");
    }

    private static (List<MarkingEngine> Engines, long Violations, long Executions) Stress(bool skipFenceWait, TimeSpan duration, bool stopAtFirstViolation = false)
    {
        var ml = new MLContext(seed: 5);
        var engines = new List<MarkingEngine>();
        var transformers = new List<(TensorRtTransformer Transformer, IDataView Data)>();
        try
        {
            foreach (var batch in new[] { 7, 16, 33 })
            {
                var random = new Random(batch);
                var rows = Enumerable.Range(0, random.Next(400, 1200))
                    .Select(i => new Row { Id = i, x = Enumerable.Range(0, Width).Select(_ => (float)random.NextDouble()).ToArray() }).ToList();
                var data = ml.Data.Cache(ml.Data.LoadFromEnumerable(rows));
                var engine = new MarkingEngine(Width);
                engines.Add(engine);
                var options = new TensorRtOptions { BatchSize = batch, Lanes = 4, ScratchSlabs = 2, ContextsPerEngine = 2 };
                transformers.Add((TestEngines.Fit(engine, MarkingEngine.Signature(Width), data, options), data));
            }
            var arena = transformers[0].Transformer.Fitted.Runtime.Pool.Arena;
            Assert.Equal(2, arena.SlabCount);
            arena.SkipFenceWaitForTesting = skipFenceWait;
            try
            {
                var stop = DateTime.UtcNow + duration;
                var threads = Enumerable.Range(0, 4).Select(t => Task.Run(() =>
                {
                    var random = new Random(t);
                    while (DateTime.UtcNow < stop && !(stopAtFirstViolation && engines.Sum(e => e.ScratchViolations) > 0))
                    {
                        var (transformer, data) = transformers[random.Next(transformers.Count)];
                        var scored = transformer.Transform(data);
                        var cursors = scored.GetRowCursorSet(scored.Schema, random.Next(1, 4), new Random(random.Next()));
                        Parallel.ForEach(cursors, cursor =>
                        {
                            using (cursor)
                                CheckRows(cursor);
                        });
                    }
                })).ToArray();
                Task.WaitAll(threads);
            }
            finally
            {
                arena.SkipFenceWaitForTesting = false;
            }
            return (engines, engines.Sum(e => e.ScratchViolations), engines.Sum(e => e.Executions));
        }
        finally
        {
            foreach (var (transformer, _) in transformers)
                transformer.Dispose();
        }
    }

    /// <summary>Every row's outputs belong to that row: y = x + 1 and z = sum(x).</summary>
    private static void CheckRows(DataViewRowCursor cursor)
    {
        var x = cursor.GetGetter<VBuffer<float>>(cursor.Schema["x"]);
        var y = cursor.GetGetter<VBuffer<float>>(cursor.Schema["y"]);
        var z = cursor.GetGetter<VBuffer<float>>(cursor.Schema["z"]);
        VBuffer<float> xv = default, yv = default, zv = default;
        while (cursor.MoveNext())
        {
            x(ref xv); y(ref yv); z(ref zv);
            var xs = xv.DenseValues().ToArray();
            Assert.Equal(xs.Select(v => v + 1), yv.DenseValues());
            Assert.Equal(xs.Sum(), zv.GetItemOrDefault(0), 4);
        }
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ScratchArenaCollection
{
    public const string Name = "Scratch arena invariant";
}
