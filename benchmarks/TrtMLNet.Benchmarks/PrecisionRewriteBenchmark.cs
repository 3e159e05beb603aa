using System.Diagnostics;
using TrtMLNet.Onnx;
using TrtMLNet.Tests.Models;

namespace TrtMLNet.Benchmarks;

/// <summary>
/// How long the ONNX precision rewrite takes at fit: parse + serialize of the unchanged model (the object
/// model alone), and the float16 and bfloat16 rewrites, on ML.NET's ResNet-18 (64 MB) and on a synthetic
/// MLP of large float32 matrices (the size of a BERT-base's weights by default).
/// </summary>
internal static class PrecisionRewriteBenchmark
{
    public static void Run(int millionWeights, int passes, TextWriter report)
    {
        report.WriteLine("# ONNX precision rewrite");
        report.WriteLine();
        report.WriteLine($"Machine: {Environment.ProcessorCount} logical cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");
        report.WriteLine();
        report.WriteLine("| model | bytes | step | ms (median of passes) | MB/s | bytes out |");
        report.WriteLine("|---|---:|---|---:|---:|---:|");
        var resnet = Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");
        Measure(report, "ResNet-18 (ML.NET package)", File.ReadAllBytes(resnet), passes);
        Measure(report, $"MLP, {millionWeights}M float32 weights", Mlp(millionWeights), passes);
    }

    private static void Measure(TextWriter report, string name, byte[] model, int passes)
    {
        (string Step, Func<byte[]> Run)[] steps =
        [
            ("parse", () => ModelProto.Parse(model).Graph is null ? [] : model),
            ("parse + serialize", () => ModelProto.Parse(model).ToBytes()),
            ("rewrite float16", () => PrecisionRewrite.Rewrite(model, new PrecisionRewriteOptions(), out _)),
            ("rewrite bfloat16", () => PrecisionRewrite.Rewrite(model, new PrecisionRewriteOptions { Target = ReducedPrecision.BFloat16 }, out _)),
        ];
        foreach (var (step, run) in steps)
        {
            if (step.Contains("bfloat16") && ModelProto.Parse(model).OpsetVersion("") < 13)
                continue; // bfloat16 needs opset 13
            var output = run(); // warm-up
            var times = new List<double>();
            for (var pass = 0; pass < passes; pass++)
            {
                var watch = Stopwatch.StartNew();
                output = run();
                times.Add(watch.Elapsed.TotalMilliseconds);
            }
            times.Sort();
            var median = times[times.Count / 2];
            report.WriteLine($"| {name} | {model.Length:N0} | {step} | {median:F0} | {model.Length / 1e6 / (median / 1000):F0} | {output.Length:N0} |");
        }
    }

    /// <summary>Square layers of 1024 x 1024 until the weights reach the asked size.</summary>
    private static byte[] Mlp(int millionWeights)
    {
        const int width = 1024;
        var layers = Math.Max(1, millionWeights * 1_000_000 / (width * width));
        var random = new Random(1);
        var builder = new OnnxModelBuilder().Input("x", OnnxType.Float, "N", width);
        var previous = "x";
        for (var layer = 0; layer < layers; layer++)
        {
            var weights = new float[width * width];
            for (var i = 0; i < weights.Length; i++)
                weights[i] = (float)(random.NextDouble() - 0.5) * 0.1f;
            builder.Initializer($"w{layer}", weights, width, width)
                .Node("MatMul", [previous, $"w{layer}"], [$"m{layer}"])
                .Node("Relu", [$"m{layer}"], [$"h{layer}"]);
            previous = $"h{layer}";
        }
        return builder.Output(previous, OnnxType.Float, "N", width).Build();
    }
}
