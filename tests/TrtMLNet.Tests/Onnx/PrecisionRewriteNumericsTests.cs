using TrtMLNet.Onnx;
using TrtMLNet.Tests.Models;

namespace TrtMLNet.Tests.Onnx;

/// <summary>
/// The rewritten models run on ONNX Runtime's CPU provider (which casts around float16 nodes it has no
/// float16 kernel for) and agree with the float32 model.
/// </summary>
public class PrecisionRewriteNumericsTests(ITestOutputHelper output)
{
    public static TheoryData<string, string> Cases => new()
    {
        { "mlp", "fp16" },
        { "encoder", "fp16" },
        { "layernorm-encoder", "fp16" },
        { "convnet", "fp16" },
        { "mlp", "bf16" },
        { "encoder", "bf16" },
        { "layernorm-encoder", "bf16" },
        { "convnet", "bf16" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Explore(string name, string target)
    {
        var original = OnnxObjectModelTests.Model(name);
        var rewritten = PrecisionRewrite.Rewrite(original, new PrecisionRewriteOptions { Target = target == "fp16" ? ReducedPrecision.Float16 : ReducedPrecision.BFloat16 }, out var report);
        output.WriteLine(report.ToString());
        var inputs = Inputs(name);
        var expected = OrtCpu.Run(original, inputs);
        var actual = OrtCpu.Run(rewritten, inputs);
        foreach (var (key, (values, shape, _)) in expected)
        {
            var rel = OrtCpu.RelativeError(values, actual[key].Values);
            var cos = OrtCpu.MinRowCosine(values, actual[key].Values, shape[^1]);
            output.WriteLine($"{key}: rel {rel:E3} cos {cos:F6}");
        }
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
