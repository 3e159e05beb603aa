using TrtMLNet.Onnx;
using TrtMLNet.Tests.Support;

namespace TrtMLNet.Tests.Onnx;

/// <summary>A model from elsewhere: ML.NET's ResNet-18 (a CNTK export, 45 MB, batch fixed at 1).</summary>
public class ResNet18RewriteTests(ITestOutputHelper output)
{
    [Fact]
    public void ItRoundTripsByteForByte()
    {
        foreach (var path in new[] { ResNet18.Path, Path.Combine(Path.GetDirectoryName(ResNet18.Path)!, "..", "ResNetPrepOnnx", "ResNetPreprocess.onnx") })
        {
            var bytes = File.ReadAllBytes(path);
            Assert.Equal(bytes, ModelProto.Parse(bytes).ToBytes());
        }
    }

    [Fact]
    public void Float16ResNet18AgreesWithFloat32()
    {
        var original = File.ReadAllBytes(ResNet18.Path);
        var rewritten = PrecisionRewrite.Rewrite(original, new PrecisionRewriteOptions(), out var report);
        output.WriteLine(report.ToString());
        output.WriteLine($"{original.Length} bytes -> {rewritten.Length} bytes");
        // The first BatchNormalization's variance reaches 72,300 (the net takes pixels of 0..255), over
        // half's 65,504: that node stays float32 with its four parameters; the rest is converted.
        Assert.Equal(["Constant99"], report.OutOfRangeWeights);
        Assert.Equal(new Dictionary<string, int> { ["BatchNormalization"] = 1 }, report.BlockedNodesByOpType);
        Assert.Equal(4, report.Float32Initializers);
        Assert.True(rewritten.Length < original.Length * 0.51);

        var random = new Random(18);
        var worst = (Relative: 0.0, Cosine: 1.0);
        for (var image = 0; image < 3; image++)
        {
            var pixels = Enumerable.Range(0, ResNet18.Pixels).Select(_ => (float)(random.NextDouble() * 255)).ToArray();
            var input = new OrtCpu.Input(ResNet18.Input, pixels, [1, 3, 224, 224]);
            var expected = OrtCpu.Run(original, input)[ResNet18.Output];
            var actual = OrtCpu.Run(rewritten, input)[ResNet18.Output];
            Assert.Equal(expected.Shape, actual.Shape);
            worst.Relative = Math.Max(worst.Relative, OrtCpu.RelativeError(expected.Values, actual.Values));
            worst.Cosine = Math.Min(worst.Cosine, OrtCpu.MinRowCosine(expected.Values, actual.Values, expected.Values.Length));
        }
        output.WriteLine($"relative error {worst.Relative:E2}, cosine {worst.Cosine:F6}");
        Assert.True(worst.Relative < 1e-2, $"relative error {worst.Relative:E2}");
        Assert.True(worst.Cosine > 0.999, $"cosine {worst.Cosine:F6}");
    }
}
