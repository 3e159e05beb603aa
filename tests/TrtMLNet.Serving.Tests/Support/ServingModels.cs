using Microsoft.ML;
using Microsoft.ML.Data;
using WebApi;

namespace TrtMLNet.Serving.Tests.Support;

/// <summary>Models for the pool tests: the web sample's tabular MLP (saved, then loaded as a server would) and stand-ins that block or fail.</summary>
public static class ServingModels
{
    private static readonly Lazy<string> s_folder = new(() =>
    {
        var folder = Path.Combine(Path.GetTempPath(), $"trtmlnet-serving-tests-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        return folder;
    });

    private static readonly object s_gate = new();

    public static string Folder => s_folder.Value;

    /// <summary>The MLP saved with ApplyTensorRt (BatchSize <paramref name="batchSize"/>), weights from <paramref name="seed"/>; cached per argument pair.</summary>
    public static string TabularFile(int seed = 20, int batchSize = 256)
    {
        var path = Path.Combine(Folder, $"tabular-{seed}-{batchSize}.zip");
        lock (s_gate)
        {
            if (!File.Exists(path))
                TabularModel.Create(new MLContext(1), Folder, seed, batchSize, Path.GetFileName(path));
        }
        return path;
    }

    public static (ITransformer Model, DataViewSchema Schema) LoadTabular(MLContext ml, int seed = 20, int batchSize = 256)
    {
        var model = ml.Model.LoadWithTensorRt(TabularFile(seed, batchSize), out var schema);
        return (model, schema);
    }

    public static List<TabularInput> Rows(int count, int seed = 5)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => TabularModel.Row(random)).ToList();
    }

    /// <summary>
    /// What PredictionEngine says for each row: the reference every pool result is checked against. The
    /// engine is not disposed: disposing a PredictionEngine disposes the model under it.
    /// </summary>
    public static List<float[]> Expected(MLContext ml, ITransformer model, DataViewSchema schema, IEnumerable<TabularInput> rows)
    {
        var engine = ml.Model.CreatePredictionEngine<TabularInput, TabularOutput>(model, schema);
        return rows.Select(r => engine.Predict(r).Score).ToList();
    }

    public static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 + 1e-4 * Math.Abs(expected[i]), $"{what}: value {i}: expected {expected[i]}, got {actual[i]}.");
    }
}

/// <summary>
/// A model that copies the first three features to "probabilities", and whose rows wait at a gate the
/// test opens and closes: scoring can be held up to fill the queue. It counts the rows it scored, and
/// fails any row whose first feature is NaN.
/// </summary>
public sealed class GateModel
{
    private readonly ManualResetEventSlim _open = new(initialState: true);
    private int _rows;

    public GateModel(MLContext ml)
    {
        var data = ml.Data.LoadFromEnumerable(new[] { new TabularInput { Features = new float[TabularModel.Features] } });
        Model = ml.Transforms.CustomMapping<TabularInput, GateOutput>(Map, contractName: null).Fit(data);
    }

    public ITransformer Model { get; }

    /// <summary>Rows scored so far (warm-up included).</summary>
    public int RowsScored => Volatile.Read(ref _rows);

    public void Close() => _open.Reset();

    public void Open() => _open.Set();

    private void Map(TabularInput input, GateOutput output)
    {
        _open.Wait(TimeSpan.FromSeconds(30));
        if (float.IsNaN(input.Features[0]))
            throw new InvalidOperationException("The first feature is NaN.");
        Interlocked.Increment(ref _rows);
        output.Probabilities = input.Features[..3];
    }

    public sealed class GateOutput
    {
        [ColumnName("probabilities")]
        public float[] Probabilities { get; set; } = [];
    }
}
