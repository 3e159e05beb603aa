using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using TrtMLNet.Tests.Models;

namespace TrtMLNet.Benchmarks;

/// <summary>
/// ApplyTensorRt on ONNX Runtime's CPU backend against ML.NET's ApplyOnnxModel on the same IDataView:
/// a small tabular MLP (20 features, one hidden layer of 64, 3 classes) and the ResNet-18 of the
/// Microsoft.ML.DnnImageFeaturizer.ResNet18 package (batch fixed at 1 by its export).
/// </summary>
internal static class CpuBenchmark
{
    public static void Run(int mlpRows, int images, int passes, TextWriter report)
    {
        var ml = new MLContext(seed: 1);
        report.WriteLine($"# CPU: ApplyTensorRt (ONNX Runtime CPU) vs ApplyOnnxModel");
        report.WriteLine();
        report.WriteLine($"Machine: {Environment.ProcessorCount} logical cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");
        report.WriteLine();
        report.WriteLine("| model | contender | rows/s (median) | min | max | vs ApplyOnnxModel |");
        report.WriteLine("|---|---|---:|---:|---:|---:|");

        var folder = Directory.CreateTempSubdirectory("trtmlnet-bench").FullName;
        var mlp = Path.Combine(folder, "mlp-20-64-3.onnx");
        File.WriteAllBytes(mlp, Mlp().Build());
        var mlpData = ml.Data.Cache(Rows(ml, mlpRows, 20, "features", 3f));
        if (mlpRows > 0)
        Compare(ml, report, "MLP 20-64-3", mlpData, mlp, "features", "scores", passes,
            [("ApplyTensorRt batch 256", new TensorRtOptions { BatchSize = 256, Lanes = 1 }),
             ("ApplyTensorRt batch 1024", new TensorRtOptions { BatchSize = 1024, Lanes = 1 }),
             ("ApplyTensorRt batch 1024, 2 lanes", new TensorRtOptions { BatchSize = 1024, Lanes = 2 })]);

        var resnet = Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");
        var imageData = ml.Data.Cache(Rows(ml, images, 3 * 224 * 224, "Input247", 255f));
        Compare(ml, report, "ResNet-18 (batch fixed at 1)", imageData, resnet, "Input247", "Pooling395_Output_0", passes,
            [("ApplyTensorRt, 1 lane", new TensorRtOptions { Lanes = 1 }),
             ("ApplyTensorRt, 2 lanes x 1 thread", new TensorRtOptions { Lanes = 2, IntraOpThreads = 1 }),
             ("ApplyTensorRt, OpenBatchDimension, batch 8", new TensorRtOptions { OpenBatchDimension = true, BatchSize = 8, Lanes = 1 }),
             ("ApplyTensorRt, OpenBatchDimension, batch 8, 2 lanes x 1 thread", new TensorRtOptions { OpenBatchDimension = true, BatchSize = 8, Lanes = 2, IntraOpThreads = 1 })]);
        Directory.Delete(folder, recursive: true);
    }

    private static void Compare(MLContext ml, TextWriter report, string model, IDataView data, string path, string input, string output, int passes,
        (string Name, TensorRtOptions Options)[] variants)
    {
        var reference = ml.Transforms.ApplyOnnxModel([output], [input], path).Fit(data);
        var transformers = variants.Select(v =>
        {
            v.Options.ModelFile = path;
            v.Options.InputColumns = [input];
            v.Options.OutputColumns = [output];
            v.Options.Backend = TensorRtBackend.OnnxRuntimeCpu;
            return ml.Transforms.ApplyTensorRt(v.Options).Fit(data);
        }).ToList();
        var contenders = new List<Throughput.Contender> { new("ApplyOnnxModel", reference.Transform(data), output) };
        contenders.AddRange(variants.Select((v, i) => new Throughput.Contender(v.Name, transformers[i].Transform(data), output)));
        var results = Throughput.Compare(contenders, passes, TimeSpan.FromSeconds(1));
        var baseline = results[0].RowsPerSecond;
        foreach (var r in results)
            report.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {model} | {r.Name} | {r.RowsPerSecond:N0} | {r.Min:N0} | {r.Max:N0} | {r.RowsPerSecond / baseline:0.00}x |"));
        report.Flush();
        foreach (var t in transformers) t.Dispose();
        reference.Dispose();
    }

    private static OnnxModelBuilder Mlp()
    {
        var random = new Random(20);
        float[] W(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 0.6 - 0.3)).ToArray();
        return new OnnxModelBuilder()
            .Input("features", OnnxType.Float, "N", 20)
            .Initializer("w1", W(20 * 64), 20, 64).Initializer("b1", W(64), 64)
            .Initializer("w2", W(64 * 3), 64, 3).Initializer("b2", W(3), 3)
            .Node("MatMul", ["features", "w1"], ["h0"]).Node("Add", ["h0", "b1"], ["h1"]).Node("Relu", ["h1"], ["h2"])
            .Node("MatMul", ["h2", "w2"], ["s0"]).Node("Add", ["s0", "b2"], ["scores"])
            .Output("scores", OnnxType.Float, "N", 3);
    }

    /// <summary>Rows of one random float vector column.</summary>
    internal static IDataView Rows(MLContext ml, int rows, int size, string column, float scale)
    {
        var random = new Random(rows);
        var builder = new DataViewSchema.Builder();
        builder.AddColumn(column, new VectorDataViewType(NumberDataViewType.Single, size));
        var values = Enumerable.Range(0, rows).Select(_ => Enumerable.Range(0, size).Select(_ => (float)random.NextDouble() * scale).ToArray()).ToList();
        return new InMemoryVectors(builder.ToSchema(), values);
    }
}
