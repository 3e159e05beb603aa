using System.Globalization;

namespace TrtMLNet.Images.Gpu;

/// <summary>
/// How many images of each GPU-decoded batch the CPU decodes instead, adapted batch by batch
/// (<see cref="ImageInputOptions.ShareDecodingWithCpu"/>).
///
/// Why: on the H200 nvJPEG's work and the engine's barely overlapped on the device (the image job ran no
/// faster with two lanes than with one, and its batches took about as long as decoding plus computing one
/// after the other), while 14 of the 16 cores sat idle. Every image the CPU decodes shortens each batch's
/// time on the device. The CPU's images are decoded while the batch waits for its lane, so the share can
/// grow while the lane finds them done when it needs them; when the lane has to wait for them, the CPU
/// is the slower side and the share shrinks. It settles where the idle cores just keep up.
/// </summary>
internal sealed class CpuDecodeShare(bool enabled)
{
    private const double Start = 0.25;
    private const double Grow = 0.02;
    private const double Shrink = 0.06;

    private readonly Lock _gate = new();
    private double _fraction = enabled ? Start : 0;
    private long _gpuImages;
    private long _cpuImages;
    private long _laneWaits;

    public bool Enabled => enabled;

    /// <summary>The share as a fraction of a batch, now.</summary>
    public double Fraction
    {
        get { lock (_gate) return _fraction; }
    }

    /// <summary>How many of a batch's <paramref name="images"/> the CPU decodes (the batch's last ones).</summary>
    public int ImagesFor(int images)
    {
        lock (_gate)
            return Math.Clamp((int)Math.Round(_fraction * images), 0, images);
    }

    /// <summary>
    /// What a lane found when it needed a batch's CPU images: done already (<paramref name="laneWaited"/> false,
    /// the CPU can take more) or not (it takes less).
    /// </summary>
    public void Observe(int gpuImages, int cpuImages, bool laneWaited)
    {
        lock (_gate)
        {
            _gpuImages += gpuImages;
            _cpuImages += cpuImages;
            if (!enabled)
                return;
            if (laneWaited)
                _laneWaits++;
            _fraction = Math.Clamp(_fraction + (laneWaited ? -Shrink : Grow), 0, 1);
        }
    }

    /// <summary>In words, e.g. "6,144 images on the GPU, 2,048 (25%) on the CPU beside it; the lanes waited for the CPU 3 times".</summary>
    public string Describe()
    {
        lock (_gate)
        {
            var total = Math.Max(1, _gpuImages + _cpuImages);
            var split = string.Create(CultureInfo.InvariantCulture,
                $"{_gpuImages:N0} images decoded on the GPU, {_cpuImages:N0} ({100.0 * _cpuImages / total:0}%) on the CPU beside it");
            return enabled
                ? split + string.Create(CultureInfo.InvariantCulture, $"; the lanes waited for the CPU's part {_laneWaits:N0} times")
                : split + " (sharing with the CPU is off)";
        }
    }
}
