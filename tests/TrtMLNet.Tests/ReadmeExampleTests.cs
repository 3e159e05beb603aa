using System.Text.RegularExpressions;
using Microsoft.ML;
using Microsoft.ML.Data;
using TrtMLNet.Tests.Models;
using TrtMLNet.Tests.Support;

namespace TrtMLNet.Tests;

/// <summary>
/// The README's examples are this file's code: each test runs one, and checks that the README shows
/// exactly that code, so neither can change without the other.
/// </summary>
public class ReadmeExampleTests
{
    public sealed class Row
    {
        [ColumnName("features"), VectorType(20)]
        public float[] Features { get; set; } = new float[20];
    }

    [Fact]
    public void QuickStartRunsAsWritten()
    {
        var modelFile = TestModels.MlpPath;
        var rows = Enumerable.Range(0, 1000).Select(i => new Row { Features = Enumerable.Repeat(i / 1000f, 20).ToArray() });
        // readme:quick-start
        var ml = new MLContext();
        var data = ml.Data.LoadFromEnumerable(rows);
        var pipeline = ml.Transforms.ApplyTensorRt("scores", "features", modelFile, batchSize: 256);
        using var model = pipeline.Fit(data);          // builds or loads the engine once
        var scored = model.Transform(data);            // lazy, batched, streamed
        Console.WriteLine(model.BackendDescription);   // what runs it, and where
        Console.WriteLine(model.GetMemoryReport());    // weights, contexts, scratch, lanes
        Console.WriteLine(model.CheckParity(data));    // against ONNX Runtime on the CPU
        // readme:end
        Assert.Equal(1000, TestData.Column<float>(scored, "scores").Count);
        AssertReadmeShows("quick-start");
    }

    [Fact]
    public void SaveAndLoadRunAsWritten()
    {
        var ml = new MLContext();
        var data = TestData.Mlp(ml, 10);
        using var transformer = ml.Transforms.ApplyTensorRt(TestModels.MlpPath).Fit(data);
        ITransformer model = transformer;
        var path = Path.Combine(TestModels.Folder, "readme-model.zip");
        // readme:save-load
        ml.Model.Save(model, data.Schema, path);                    // a standard ML.NET model file
        var anywhere = ml.Model.Load(path, out var schema);         // any ML.NET app: OnnxTransformer, row by row
        var batched = ml.Model.LoadWithTensorRt(path, out schema);  // TrtMLNet: batched again, on the GPU if present
        // readme:end
        Assert.Equal(TestData.Column<float>(anywhere.Transform(data), "scores").Count, TestData.Column<float>(batched.Transform(data), "scores").Count);
        (batched as IDisposable)?.Dispose();
        AssertReadmeShows("save-load");
    }

    /// <summary>The README's block after the marker equals the code between this file's markers.</summary>
    private static void AssertReadmeShows(string name, [System.Runtime.CompilerServices.CallerFilePath] string sourceFile = "")
    {
        var source = File.ReadAllText(sourceFile);
        var code = Regex.Match(source, $@"// readme:{name}\r?\n(.*?)\r?\n\s*// readme:end", RegexOptions.Singleline).Groups[1].Value;
        var readme = File.ReadAllText(Path.Combine(Path.GetDirectoryName(sourceFile)!, "..", "..", "README.md"));
        var block = Regex.Match(readme, $@"<!-- example:{name} -->\s*```csharp\r?\n(.*?)\r?\n```", RegexOptions.Singleline).Groups[1].Value;
        Assert.False(string.IsNullOrEmpty(block), $"README.md has no block marked <!-- example:{name} -->.");
        Assert.Equal(Normalize(code), Normalize(block));
    }

    private static string Normalize(string code) =>
        string.Join("\n", code.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0));
}
