using Microsoft.ML.OnnxRuntime;
using TrtMLNet.Onnx;
using TrtMLNet.Tests.Models;

namespace TrtMLNet.Tests.Onnx;

/// <summary>
/// The rewritten models run on ONNX Runtime's CPU provider and agree with the float32 model. The CPU
/// provider has few float16 kernels; for the others ONNX Runtime puts casts to float32 around the node
/// itself, so these tests check the graph and the float16 weights and activations at node boundaries,
/// not float16 arithmetic (that is the GPU run's job).
/// </summary>
public class PrecisionRewriteNumericsTests(ITestOutputHelper output)
{
    /// <summary>float16: 11-bit mantissa, relative rounding 2^-11 per value; a few layers stay well under 0.5%.</summary>
    private const double Float16RelativeError = 5e-3, MinRowCosine = 0.999;

    public static TheoryData<string> ModelNames => ["mlp", "encoder", "layernorm-encoder", "bert-layer", "convnet"];

    [Theory]
    [MemberData(nameof(ModelNames))]
    public void Float16ModelAgreesWithFloat32(string name)
    {
        var original = OnnxObjectModelTests.Model(name);
        var rewritten = PrecisionRewrite.Rewrite(original, new PrecisionRewriteOptions(), out var report);
        output.WriteLine(report.ToString());
        Assert.True(report.ConvertedInitializers > 0);
        var inputs = Inputs(name);
        var expected = OrtCpu.Run(original, inputs);
        var actual = OrtCpu.Run(rewritten, inputs);
        Assert.Equal(expected.Keys, actual.Keys);
        foreach (var (key, reference) in expected)
        {
            var result = actual[key];
            Assert.Equal(reference.Type, result.Type); // float32 out
            Assert.Equal(reference.Shape, result.Shape);
            var relative = OrtCpu.RelativeError(reference.Values, result.Values);
            var cosine = OrtCpu.MinRowCosine(reference.Values, result.Values, reference.Shape[^1]);
            output.WriteLine($"{key}: relative error {relative:E2}, smallest row cosine {cosine:F6}");
            Assert.True(relative < Float16RelativeError, $"{key}: relative error {relative:E2}");
            Assert.True(cosine > MinRowCosine, $"{key}: row cosine {cosine:F6}");
        }
    }

    /// <summary>
    /// ONNX Runtime's CPU provider has no bfloat16 kernels for MatMul, Relu, Conv... (and, unlike float16,
    /// does not cast around them), so bfloat16 models cannot run here. What can be checked: ONNX Runtime
    /// resolves the graph, its type inference included (a type error fails earlier, as "Type Error"), and
    /// stops only at the kernel lookup. Should a later ONNX Runtime run them, the outputs are compared.
    /// </summary>
    [Theory]
    [MemberData(nameof(ModelNames))]
    public void BFloat16GraphPassesTypeChecksOfOnnxRuntime(string name)
    {
        var original = OnnxObjectModelTests.Model(name);
        var rewritten = PrecisionRewrite.Rewrite(original, new PrecisionRewriteOptions { Target = ReducedPrecision.BFloat16 }, out var report);
        output.WriteLine(report.ToString());
        Assert.True(report.Changed);
        Dictionary<string, OrtCpu.Output> actual;
        try
        {
            actual = OrtCpu.Run(rewritten, Inputs(name));
        }
        catch (OnnxRuntimeException e)
        {
            output.WriteLine(e.Message);
            Assert.Contains("[ErrorCode:NotImplemented] Could not find an implementation", e.Message);
            return;
        }
        foreach (var (key, reference) in OrtCpu.Run(original, Inputs(name)))
            Assert.True(OrtCpu.MinRowCosine(reference.Values, actual[key].Values, reference.Shape[^1]) > MinRowCosine, key);
    }

    internal static OrtCpu.Input[] Inputs(string name)
    {
        var random = new Random(5);
        switch (name)
        {
            case "mlp":
                return [new("features", Floats(random, 8 * TestModels.MlpFeatures, 2f), [8, TestModels.MlpFeatures])];
            case "convnet":
                return [new("image", Floats(random, 4 * 3 * 16 * 16, 1f).Select(Math.Abs).ToArray(), [4, 3, 16, 16])];
            default:
                const int batch = 3, sequence = 7;
                var ids = Enumerable.Range(0, batch * sequence).Select(_ => (long)random.Next(TestModels.EncoderVocabulary)).ToArray();
                // Row 0 is full, rows 1 and 2 end in padding.
                var mask = Enumerable.Range(0, batch * sequence).Select(i => i % sequence < sequence - 2 * (i / sequence) ? 1L : 0L).ToArray();
                return [new("input_ids", ids, [batch, sequence]), new("attention_mask", mask, [batch, sequence])];
        }
    }

    private static float[] Floats(Random random, int count, float scale) =>
        Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1) * scale).ToArray();
}
