namespace TrtMLNet.Tests;

/// <summary>
/// What CheckParity accepts and what its reference runs, without a GPU. On the H200 the job's --check-parity
/// failed in two ways these pin: with --decoder gpu the reference took the GPU decoder to the CPU and refused
/// to fit; and plain FP32 on ResNet-50 (logits in the thousands) flagged 21 values near zero that differed
/// by 0.003, FP32 rounding of large terms, while the relative L2 error was 5e-7.
/// </summary>
public class ParityCheckTests
{
    private static readonly ParityTolerance Fp32 = ParityTolerance.For(TensorRtPrecision.Fp32, tf32: false);

    [Fact]
    public void TheAbsoluteToleranceFollowsTheTypicalSizeOfTheRow()
    {
        // A value near zero off by 0.003 in a row of values in the thousands: rounding, within 1e-5 x 1,200.
        var large = ParityCheck.Compare("logits", [[5000, -1200, 1e-4]], [[5000, -1200, 3e-3]], Fp32);
        Assert.Equal(0, large.Mismatches);
        Assert.True(large.WithinTolerance);

        // The same error in a row of values below 1 is a mismatch: 1e-5 is then absolute.
        var small = ParityCheck.Compare("probabilities", [[0.9, 0.1, 1e-4]], [[0.9, 0.1, 3e-3]], Fp32);
        Assert.Equal(1, small.Mismatches);
        Assert.False(small.WithinTolerance);
    }

    [Fact]
    public void OneHugeValueDoesNotLoosenTheRestOfItsRow()
    {
        // A masking sentinel beside ordinary values: the median keeps the scale at the ordinary values' size.
        var masked = ParityCheck.Compare("scores", [[-3.4e38, 1, 2, 0.5, 1e-4]], [[-3.4e38, 1, 2, 0.5, 3e-3]], Fp32);
        Assert.Equal(1, masked.Mismatches);
        Assert.False(masked.WithinTolerance);
    }

    [Fact]
    public void AToleranceGivenByHandIsTakenAsGiven()
    {
        var byHand = Fp32 with { Relative = 1e-3, Absolute = 1e-5, AbsoluteInRowUnits = false };
        var result = ParityCheck.Compare("logits", [[5000, -1200, 1e-4]], [[5000, -1200, 3e-3]], byHand);
        Assert.Equal(1, result.Mismatches);
        Assert.Contains("each value ≤ 1e-05 + 0.001×|expected|", byHand.ToString());
        Assert.Contains("max(1, row's median |expected|)", Fp32.ToString());
    }

    [Fact]
    public void ImagesDecodedOnTheGpuAreJudgedByNormAndDirection()
    {
        var tolerance = ParityTolerance.For(TensorRtPrecision.Fp32, tf32: false, imagesDecodedOnGpu: true);
        Assert.Null(tolerance.Relative);
        Assert.Equal(ParityTolerance.For(TensorRtPrecision.Fp32, tf32: true), tolerance);
    }

    [Fact]
    public void TheReferenceDecodesImagesOnTheCpuAndLeavesTheUsersOptionsAlone()
    {
        var image = ImageInputOptions.ImageNet("path");
        image.Decoder = ImageDecoderKind.Gpu;
        var options = new TensorRtOptions
        {
            ModelFile = "model.onnx",
            Backend = TensorRtBackend.OnnxRuntimeCuda,
            AllowTf32 = true,
            ImageInputs = new Dictionary<string, ImageInputOptions> { ["input"] = image },
        };

        var reference = ParityCheck.ReferenceOptions(options, TensorRtBackend.OnnxRuntimeCpu);

        Assert.Equal(ImageDecoderKind.Cpu, reference.ImageInputs!["input"].Decoder);
        Assert.Equal("path", reference.ImageInputs["input"].Column);
        Assert.Equal(TensorRtBackend.OnnxRuntimeCpu, reference.Backend);
        Assert.False(reference.AllowTf32);
        Assert.Equal(ImageDecoderKind.Gpu, image.Decoder);
        Assert.Same(image, options.ImageInputs["input"]);
    }
}
