using TrtMLNet.Images;

namespace TrtMLNet.Tests.Images;

public class ResampleTapsTests
{
    [Theory]
    [InlineData(500, 224)]
    [InlineData(375, 341)]
    [InlineData(23, 64)]
    [InlineData(7, 3)]
    [InlineData(1, 5)]
    public void WeightsAreNormalisedAndStayInTheSource(int source, int resized)
    {
        var taps = ResampleTaps.Compute(source, resized, 0, resized);
        for (int j = 0; j < resized; j++)
        {
            Assert.InRange(taps.Count[j], 1, taps.MaxTaps);
            Assert.InRange(taps.First[j], 0, source - taps.Count[j]);
            double sum = 0;
            long fixedSum = 0;
            for (int t = 0; t < taps.Count[j]; t++)
            {
                sum += taps.Weights[j * taps.MaxTaps + t];
                fixedSum += taps.FixedWeights[j * taps.MaxTaps + t];
            }
            Assert.Equal(1.0, sum, 1e-6);
            // Each fixed weight is rounded on its own, so the sum may miss 2^22 by half a unit per tap.
            Assert.InRange(fixedSum, (1 << 22) - taps.Count[j], (1 << 22) + taps.Count[j]);
        }
    }

    [Fact]
    public void SameSizeIsTheIdentity()
    {
        var taps = ResampleTaps.Compute(9, 9, 0, 9);
        for (int j = 0; j < 9; j++)
        {
            Assert.Equal(j, taps.First[j]);
            Assert.Equal(1 << 22, taps.FixedWeights[j * taps.MaxTaps]);
            for (int t = 1; t < taps.Count[j]; t++)
                Assert.Equal(0, taps.FixedWeights[j * taps.MaxTaps + t]);
        }
    }

    [Fact]
    public void HalvingAveragesPairsWithTheWidenedTriangle()
    {
        // Scale 2: support 2, center 2i + 1; taps at 2i-1 .. 2i+2 with weights 1/8, 3/8, 3/8, 1/8.
        var taps = ResampleTaps.Compute(8, 4, 0, 4);
        Assert.Equal(1, taps.First[1]);
        Assert.Equal(4, taps.Count[1]);
        Assert.Equal(new[] { 0.125f, 0.375f, 0.375f, 0.125f }, taps.Weights.AsSpan(1 * taps.MaxTaps, 4).ToArray());
        // At the edge the taps that fall outside are dropped and the rest renormalised: 3/7, 3/7, 1/7.
        Assert.Equal(0, taps.First[0]);
        Assert.Equal(3, taps.Count[0]);
        Assert.Equal(3.0 / 7, taps.Weights[0], 1e-7);
    }

    [Theory]
    [InlineData(500, 341, 58, 224)]
    [InlineData(37, 102, 27, 48)]
    [InlineData(200, 123, 0, 123)]
    public void ACropIsTheSliceOfTheWholeLine(int source, int resized, int offset, int crop)
    {
        var whole = ResampleTaps.Compute(source, resized, 0, resized);
        var part = ResampleTaps.Compute(source, resized, offset, crop);
        for (int j = 0; j < crop; j++)
        {
            int i = offset + j;
            Assert.Equal(whole.First[i], part.First[j]);
            Assert.Equal(whole.Count[i], part.Count[j]);
            for (int t = 0; t < part.Count[j]; t++)
            {
                Assert.Equal(whole.FixedWeights[i * whole.MaxTaps + t], part.FixedWeights[j * part.MaxTaps + t]);
                Assert.Equal(whole.Weights[i * whole.MaxTaps + t], part.Weights[j * part.MaxTaps + t]);
            }
        }
    }

    [Fact]
    public void PaddingPixelsHaveNoTaps()
    {
        var taps = ResampleTaps.Compute(23, 64, -8, 80);
        for (int j = 0; j < 80; j++)
            Assert.Equal(j < 8 || j >= 72 ? 0 : 1, Math.Sign(taps.Count[j]));
        Assert.Equal((0, 23), taps.SourceRange());
    }
}
