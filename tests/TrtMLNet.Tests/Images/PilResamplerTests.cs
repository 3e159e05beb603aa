using TrtMLNet.Images;

namespace TrtMLNet.Tests.Images;

/// <summary>The 1-, 2- and 4-tap SIMD paths of the horizontal pass give the same bytes (the PIL fixtures check the widest one the machine has).</summary>
public class PilResamplerTests
{
    [Theory]
    [InlineData(500, 375, 224, 224)]  // downscale: 5-6 taps a pixel
    [InlineData(37, 23, 64, 48)]      // upscale: 2-3 taps
    [InlineData(1000, 40, 13, 40)]    // 77-78 taps a pixel, rows untouched
    [InlineData(9, 9, 9, 9)]          // identity
    public void EveryVectorWidthGivesTheSameBytes(int w, int h, int outW, int outH)
    {
        var image = TestImages.Draw(w, h, seed: w + h);
        var rgba = new byte[w * h * 4 + PilResampler.SourceSlackBytes];
        new Random(1).NextBytes(rgba); // the alpha bytes and the slack hold junk: neither may leak into RGB
        for (int i = 0; i < w * h; i++)
            for (int c = 0; c < 3; c++)
                rgba[i * 4 + c] = image.Pixels[i * 3 + c];
        var plan = ResamplePlan.Create(w, h, ImageGeometry.Stretch(w, h, outW, outH));

        byte[] Run(int bits)
        {
            var output = new byte[outW * outH * 4];
            PilResampler.Resample(rgba, w, h, plan, new byte[plan.IntermediateBytes], output, bits);
            return output;
        }
        var narrow = Run(128);
        Assert.Equal(narrow, Run(256));
        Assert.Equal(narrow, Run(512));
    }

    [Fact]
    public void ASourceWithoutItsSlackIsRefused()
    {
        var plan = ResamplePlan.Create(4, 4, ImageGeometry.Stretch(4, 4, 2, 2));
        var e = Assert.Throws<ArgumentException>(() => PilResampler.Resample(new byte[4 * 4 * 4], 4, 4, plan, new byte[plan.IntermediateBytes], new byte[16]));
        Assert.Contains("slack", e.Message);
    }
}
