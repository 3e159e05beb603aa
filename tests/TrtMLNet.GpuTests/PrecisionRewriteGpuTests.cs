using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using OrtElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;
using TrtMLNet.GpuTests.Support;
using TrtMLNet.Onnx;

namespace TrtMLNet.GpuTests;

/// <summary>
/// The float16/bfloat16 rewrite of ResNet-50 and BERT-base run on ONNX Runtime's CUDA provider, against
/// the float32 model on the same provider (TF32 off): agreement, and the time of a batch in each.
/// </summary>
[Collection(GpuCollection.Name)]
public class PrecisionRewriteGpuTests
{
    public static TheoryData<string, string> Cases => new()
    {
        { "resnet50.onnx", "fp16" },
        { "bert-base.onnx", "fp16" },
        { "resnet50.onnx", "bf16" },
        { "bert-base.onnx", "bf16" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void RewrittenModelAgreesWithFloat32OnCuda(string file, string target)
    {
        var path = Gpu.Model(file);
        var precision = target == "fp16" ? ReducedPrecision.Float16 : ReducedPrecision.BFloat16;
        var original = File.ReadAllBytes(path);
        var watch = Stopwatch.StartNew();
        var rewritten = PrecisionRewrite.Rewrite(original, new PrecisionRewriteOptions { Target = precision }, out var report);
        Gpu.Note($"{file} {target}: rewrite {watch.ElapsedMilliseconds} ms, {original.Length:N0} -> {rewritten.Length:N0} bytes. {report}");

        using var reference = Session(original);
        InferenceSession reduced;
        try
        {
            reduced = Session(rewritten);
        }
        catch (OnnxRuntimeException e) when (precision == ReducedPrecision.BFloat16 && e.Message.Contains("NotImplemented"))
        {
            Assert.Skip($"ONNX Runtime's CUDA provider has no bfloat16 kernel for an op of {file}: {e.Message}");
            return;
        }
        var inputs = Inputs(reference, batch: 32, sequence: 128);
        try
        {
            var expected = Run(reference, inputs);
            var actual = Run(reduced, inputs);
            var (relativeLimit, cosineLimit) = precision == ReducedPrecision.Float16 ? (2e-2, 0.999) : (8e-2, 0.99);
            foreach (var (name, values) in expected)
            {
                var relative = Tests.Onnx.OrtCpu.RelativeError(values.Data, actual[name].Data);
                var cosine = Tests.Onnx.OrtCpu.MinRowCosine(values.Data, actual[name].Data, values.RowLength);
                Gpu.Note($"{file} {target} {name}: relative error {relative:E2}, smallest row cosine {cosine:F6}");
                Assert.True(relative < relativeLimit && cosine > cosineLimit, $"{name}: relative error {relative:E2}, row cosine {cosine:F6}");
            }
            Gpu.Note($"{file} batch 32: float32 {MedianMs(reference, inputs):F2} ms, {target} {MedianMs(reduced, inputs):F2} ms (median of 20 runs, inputs copied from host each run)");
        }
        finally
        {
            reduced.Dispose();
            foreach (var value in inputs.Values)
                value.Dispose();
        }
    }

    private static InferenceSession Session(byte[] model)
    {
        using var cuda = new OrtCUDAProviderOptions();
        cuda.UpdateOptions(new Dictionary<string, string> { ["device_id"] = "0", ["use_tf32"] = "0" });
        using var options = SessionOptions.MakeSessionOptionWithCudaProvider(cuda);
        return new InferenceSession(model, options);
    }

    /// <summary>Random inputs by the model's signature: images in [-1, 1]; token ids, an all-ones mask, zero token types.</summary>
    private static Dictionary<string, OrtValue> Inputs(InferenceSession session, int batch, int sequence)
    {
        var random = new Random(60);
        var inputs = new Dictionary<string, OrtValue>(StringComparer.Ordinal);
        foreach (var (name, meta) in session.InputMetadata)
        {
            var shape = meta.Dimensions.Select((d, i) => d > 0 ? (long)d : i == 0 ? batch : sequence).ToArray();
            var count = (int)shape.Aggregate(1L, (a, b) => a * b);
            inputs[name] = meta.ElementDataType switch
            {
                OrtElementType.Float => OrtValue.CreateTensorValueFromMemory(Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray(), shape),
                OrtElementType.Int64 => OrtValue.CreateTensorValueFromMemory(Enumerable.Range(0, count)
                    .Select(_ => name.Contains("mask") ? 1L : name.Contains("type") ? 0L : random.Next(1000, 30000)).ToArray(), shape),
                _ => throw new InvalidOperationException($"Input {name} is {meta.ElementDataType}."),
            };
        }
        return inputs;
    }

    private static Dictionary<string, (float[] Data, long RowLength)> Run(InferenceSession session, Dictionary<string, OrtValue> inputs)
    {
        using var runOptions = new RunOptions();
        var names = session.OutputNames.ToList();
        using var outputs = session.Run(runOptions, inputs.Keys.ToList(), inputs.Values.ToList(), names);
        return names.Select((name, i) => (name, outputs[i])).ToDictionary(p => p.name, p =>
        {
            var info = p.Item2.GetTensorTypeAndShape();
            Assert.Equal(OrtElementType.Float, info.ElementDataType); // float32 out, whatever runs inside
            return (p.Item2.GetTensorDataAsSpan<float>().ToArray(), info.Shape[^1]);
        });
    }

    private static double MedianMs(InferenceSession session, Dictionary<string, OrtValue> inputs)
    {
        Run(session, inputs);
        var times = Enumerable.Range(0, 20).Select(_ =>
        {
            var watch = Stopwatch.StartNew();
            Run(session, inputs);
            return watch.Elapsed.TotalMilliseconds;
        }).Order().ToList();
        return times[times.Count / 2];
    }
}
