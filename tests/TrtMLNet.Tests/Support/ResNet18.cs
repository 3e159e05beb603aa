using Microsoft.ML;
using Microsoft.ML.Data;

namespace TrtMLNet.Tests.Support;

/// <summary>The ResNet-18 of the Microsoft.ML.DnnImageFeaturizer.ResNet18 package: a CNTK export with its batch fixed at 1.</summary>
public static class ResNet18
{
    public const string Input = "Input247";
    public const string Output = "Pooling395_Output_0";
    public const int Pixels = 3 * 224 * 224;

    public static string Path => System.IO.Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");

    private sealed class Row
    {
        [ColumnName(Input), VectorType(3, 224, 224)] public float[] Pixels { get; set; } = [];
    }

    /// <summary>Images of random pixels in the range ExtractPixels gives (0..255).</summary>
    public static IDataView RandomImages(MLContext ml, int rows, int seed = 18)
    {
        var random = new Random(seed);
        return ml.Data.LoadFromEnumerable(Enumerable.Range(0, rows).Select(_ => new Row
        {
            Pixels = Enumerable.Range(0, Pixels).Select(_ => (float)(random.NextDouble() * 255)).ToArray(),
        }).ToList());
    }
}
