using System.Globalization;
using BatchScoring.Tests.Support;
using SkiaSharp;

namespace BatchScoring.Tests;

/// <summary>
/// The image options on the command line, through the job into TrtMLNet's image input, against values
/// computed here. The test model outputs the mean of each channel plane, so solid colours check the
/// normalisation exactly and a striped image checks the geometry (crop against stretch).
/// </summary>
public sealed class ImagePreprocessingTests : IDisposable
{
    private readonly TestFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static readonly (byte R, byte G, byte B)[] Colours = [(200, 100, 30), (0, 255, 128), (17, 34, 51)];

    [Fact]
    public void PresetImageNetNormalisesAsTorchvision()
    {
        var images = SolidImages();
        var means = Score(images, "--preset", "imagenet");
        float[] mean = [0.485f, 0.456f, 0.406f], std = [0.229f, 0.224f, 0.225f];
        for (var i = 0; i < Colours.Length; i++)
        {
            float[] rgb = [Colours[i].R, Colours[i].G, Colours[i].B];
            for (var c = 0; c < 3; c++)
                Assert.Equal((rgb[c] / 255f - mean[c]) / std[c], means[i][c], 4);
        }
    }

    [Fact]
    public void MeanAndStdAreGivenInRgbOrderAndFollowBgr()
    {
        var images = SolidImages();
        var means = Score(images, "--mean", "0.1,0.2,0.3", "--std", "0.5,0.25,2", "--bgr");
        for (var i = 0; i < Colours.Length; i++)
        {
            // The tensor's planes are B, G, R; each takes its own colour's mean and std.
            Assert.Equal((Colours[i].B / 255f - 0.3f) / 2f, means[i][0], 4);
            Assert.Equal((Colours[i].G / 255f - 0.2f) / 0.25f, means[i][1], 4);
            Assert.Equal((Colours[i].R / 255f - 0.1f) / 0.5f, means[i][2], 4);
        }
    }

    [Fact]
    public void PixelOffsetAndScaleAreMlNetsFormula()
    {
        var images = SolidImages();
        var means = Score(images, "--pixel-offset", "-10", "--pixel-scale", "0.5");
        for (var i = 0; i < Colours.Length; i++)
            Assert.Equal((Colours[i].R - 10f) * 0.5f, means[i][0], 3);
    }

    [Fact]
    public void ResizeCropsTheCentreWhereStretchKeepsEverything()
    {
        // 32x16: white but for black bands 4 pixels wide at the left and right. The shorter side to 8 and a
        // center crop of 8 keeps original columns 8..24 (and the filter reads 6..26): all white.
        var folder = Directory.CreateDirectory(_folder["bands"]).FullName;
        using (var bitmap = new SKBitmap(32, 16))
        {
            for (var y = 0; y < 16; y++)
                for (var x = 0; x < 32; x++)
                    bitmap.SetPixel(x, y, x is < 4 or >= 28 ? SKColors.Black : SKColors.White);
            Save(bitmap, Path.Combine(folder, "bands.png"));
        }

        var cropped = Score(folder, "--resize", "8", "--mean", "0,0,0");
        var stretched = Score(folder, "--mean", "0,0,0");

        Assert.Equal(1f, cropped[0][0], 3);
        Assert.Equal(0.75f, stretched[0][0], 2);
    }

    [Theory]
    [InlineData("--mean 0.5,0.5", "--mean takes three numbers")]
    [InlineData("--std 0.2,0,0.2", "--std takes three positive numbers")]
    [InlineData("--preset imagenet --pixel-offset -3", "Use one of the two")]
    [InlineData("--crop 16", "fixes the image height at 8")]
    [InlineData("--resize 4", "--resize 4 makes the shorter side smaller than the 8x8 crop")]
    [InlineData("--decoder gpu", "asks for GPU decoding")]
    public void BadImageOptionsAreOneLineErrors(string arguments, string expected)
    {
        var images = SolidImages();
        var result = Job.Run(_folder.Path, ["-i", images, "-m", Models.Image, "-o", "out/scores.csv", "--backend", "OnnxRuntimeCpu", .. arguments.Split(' ')]);

        Assert.True(result.ExitCode is 1 or 2, result.ToString());
        Expect.Contains(expected, Assert.Single(result.Errors));
        Assert.DoesNotContain("   at ", result.Output + result.Error);
    }

    private string SolidImages()
    {
        var folder = Directory.CreateDirectory(_folder["solid"]).FullName;
        for (var i = 0; i < Colours.Length; i++)
        {
            using var bitmap = new SKBitmap(20 + 7 * i, 13 + 11 * i);
            bitmap.Erase(new SKColor(Colours[i].R, Colours[i].G, Colours[i].B));
            Save(bitmap, Path.Combine(folder, $"img-{i}.png"));
        }
        return folder;
    }

    private static void Save(SKBitmap bitmap, string path)
    {
        using var data = SKImage.FromBitmap(bitmap).Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
    }

    /// <summary>The model's output ("mean", one value per channel plane) for each image, in file order.</summary>
    private float[][] Score(string images, params string[] arguments)
    {
        var output = $"out-{Guid.NewGuid():N}/scores.csv";
        var result = Job.Run(_folder.Path, ["-i", images, "-m", Models.Image, "-o", output, "--backend", "OnnxRuntimeCpu", .. arguments]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return OutputFiles.ReadCsv(_folder[output])
            .Select(row => row[1..].Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray())
            .ToArray();
    }
}
