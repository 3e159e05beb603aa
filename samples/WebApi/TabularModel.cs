using Microsoft.ML;
using Microsoft.ML.Data;
using TrtMLNet;
using TrtMLNet.Tests.Models;

namespace WebApi;

/// <summary>The tabular model's input (Model Builder's ModelInput): 20 numeric features.</summary>
public sealed class TabularInput
{
    [ColumnName("features"), VectorType(TabularModel.Features)]
    public float[] Features { get; set; } = [];
}

/// <summary>The tabular model's prediction (Model Builder's ModelOutput): a probability per class.</summary>
public sealed class TabularOutput
{
    [ColumnName("probabilities")]
    public float[] Score { get; set; } = [];

    [NoColumn]
    public int PredictedLabel => Score.Length == 0 ? -1 : Array.IndexOf(Score, Score.Max());
}

/// <summary>
/// A multilayer perceptron (20 features, 64 hidden ReLU units, 3 classes, softmax) with fixed random
/// weights, written as ONNX and wrapped in an ML.NET pipeline with ApplyTensorRt, then saved as an ML.NET
/// model file: the shape of a tabular model that Model Builder trains and a team exports to ONNX.
/// </summary>
public static class TabularModel
{
    public const int Features = 20;
    public const string FileName = "tabular.zip";

    /// <summary>Writes the ONNX model and the ML.NET model file into <paramref name="folder"/>; <paramref name="seed"/> picks the weights.</summary>
    public static string Create(MLContext ml, string folder, int seed = 20, int batchSize = 256, string fileName = FileName)
    {
        var onnx = Onnx(seed).Save(Path.Combine(folder, $"mlp-{seed}.onnx"));
        var pipeline = ml.Transforms.ApplyTensorRt(new TensorRtOptions
        {
            ModelFile = onnx,
            InputColumns = ["features"],
            OutputColumns = ["probabilities"],
            BatchSize = batchSize,
            FallbackToCpu = true,
        });
        var schema = SchemaDefinition.Create(typeof(TabularInput));
        var data = ml.Data.LoadFromEnumerable(new[] { new TabularInput { Features = new float[Features] } }, schema);
        using var model = pipeline.Fit(data);
        var path = Path.Combine(folder, fileName);
        ml.Model.Save(model, data.Schema, path);
        return path;
    }

    public static OnnxModelBuilder Onnx(int seed)
    {
        var random = new Random(seed);
        return new OnnxModelBuilder()
            .Input("features", OnnxType.Float, "N", Features)
            .Initializer("w1", Weights(random, Features * 64, 0.3f), Features, 64)
            .Initializer("b1", Weights(random, 64, 0.1f), 64)
            .Initializer("w2", Weights(random, 64 * 3, 0.3f), 64, 3)
            .Initializer("b2", Weights(random, 3, 0.1f), 3)
            .Node("MatMul", ["features", "w1"], ["h0"])
            .Node("Add", ["h0", "b1"], ["h1"])
            .Node("Relu", ["h1"], ["h2"])
            .Node("MatMul", ["h2", "w2"], ["s0"])
            .Node("Add", ["s0", "b2"], ["scores"])
            .Node("Softmax", ["scores"], ["probabilities"], ("axis", 1L))
            .Output("probabilities", OnnxType.Float, "N", 3);
    }

    /// <summary>A row of features in [-2, 2), the same for the same seed.</summary>
    public static TabularInput Row(Random random) =>
        new() { Features = Enumerable.Range(0, Features).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray() };

    private static float[] Weights(Random random, int count, float scale) =>
        Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1) * scale).ToArray();
}
