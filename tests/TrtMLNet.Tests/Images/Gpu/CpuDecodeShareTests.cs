using TrtMLNet.Images.Gpu;

namespace TrtMLNet.Tests.Images.Gpu;

/// <summary>The part of each GPU-decoded batch the CPU takes: grows while the lanes never wait for it, shrinks when they do.</summary>
public class CpuDecodeShareTests
{
    [Fact]
    public void TheShareGrowsWhileTheLanesFindTheCpusImagesDoneAndShrinksWhenTheyWait()
    {
        var share = new CpuDecodeShare(enabled: true);
        Assert.Equal(32, share.ImagesFor(128));

        for (var i = 0; i < 10; i++)
            share.Observe(96, 32, laneWaited: false);
        Assert.Equal(0.45, share.Fraction, 6);

        share.Observe(70, 58, laneWaited: true);
        Assert.Equal(0.39, share.Fraction, 6);
        Assert.Equal(50, share.ImagesFor(128));
        Assert.Equal(0, share.ImagesFor(0));

        for (var i = 0; i < 100; i++)
            share.Observe(0, 128, laneWaited: false);
        Assert.Equal(128, share.ImagesFor(128));
        for (var i = 0; i < 100; i++)
            share.Observe(128, 0, laneWaited: true);
        Assert.Equal(0, share.ImagesFor(128));
        Assert.Contains("the lanes waited for the CPU's part 101 times", share.Describe());
    }

    [Fact]
    public void OffTheCpuTakesNothingButTheCountsAreKept()
    {
        var share = new CpuDecodeShare(enabled: false);
        share.Observe(128, 0, laneWaited: false);
        Assert.Equal(0, share.ImagesFor(128));
        Assert.Equal("128 images decoded on the GPU, 0 (0%) on the CPU beside it (sharing with the CPU is off)", share.Describe());
    }
}
