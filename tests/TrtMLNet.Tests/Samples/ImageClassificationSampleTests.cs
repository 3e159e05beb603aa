using ImageClassification;

namespace TrtMLNet.Tests.Samples;

/// <summary>
/// samples/ImageClassification end to end on a few drawn images: it trains, evaluates better than
/// chance, saves, loads back both ways and predicts the same as before saving.
/// </summary>
public sealed class ImageClassificationSampleTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "trtmlnet-tests", $"image-classification-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_folder))
            Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public void TrainsEvaluatesSavesLoadsAndPredicts()
    {
        var log = new StringWriter();
        var result = ImageClassificationSample.Run(new SampleOptions
        {
            OutputFolder = _folder,
            Classes = 3,
            // 12 to train and 4 to test per class: with 8 (6 to train) the seeded run gets 3 of 6 test
            // images right, one image away from chance; 16 gets 10 of 12 and still takes seconds.
            ImagesPerClass = 16,
            NewImages = 3,
            // 36 training and 12 test images: full batches and a partial one in both.
            BatchSize = 5,
        }, log);
        TestContext.Current.SendDiagnosticMessage(log.ToString());

        Assert.Equal(["circle", "square", "triangle"], result.Classes);
        Assert.Equal(36, result.TrainImages);
        Assert.Equal(12, result.TestImages);
        Assert.Equal(5, result.BatchSize);
        Assert.NotEqual(TensorRtBackend.Auto, result.Backend);
        Assert.False(string.IsNullOrEmpty(result.BackendDescription));

        // Three classes: chance is a third right and a log-loss of ln 3.
        Assert.True(result.Metrics.MicroAccuracy > 1.0 / 3, $"accuracy {result.Metrics.MicroAccuracy:P1} is no better than chance");
        Assert.True(result.Metrics.LogLoss < Math.Log(3), $"log-loss {result.Metrics.LogLoss:0.000} is no better than chance");
        Assert.Equal(3, result.Metrics.PerClassLogLoss.Count);
        Assert.Equal(12, result.Metrics.ConfusionMatrix.Counts.Sum(row => row.Sum()));

        Assert.True(File.Exists(result.ModelPath));
        Assert.Contains("OnnxTransformer", result.MlNetLoadStages);
        Assert.DoesNotContain("TensorRtTransformer", result.MlNetLoadStages);
        Assert.Contains("TensorRtTransformer", result.TensorRtLoadStages);
        Assert.Equal(result.MlNetLoadStages.Count, result.TensorRtLoadStages.Count);

        // One new image of each class, each through the trained model and the one loaded back with TrtMLNet.
        Assert.Equal(["circle", "square", "triangle"], result.Predictions.Select(p => p.TrueLabel));
        foreach (var p in result.Predictions)
        {
            Assert.True(File.Exists(p.ImagePath));
            Assert.Contains(p.Trained.Label, result.Classes);
            Assert.Equal(3, p.Trained.Scores.Count);
            Assert.InRange(p.Trained.Scores.Sum(), 0.999f, 1.001f);
            Assert.True(p.LabelsAgree, $"{p.ImagePath}: trained {p.Trained.Label}, TrtMLNet load {p.TensorRtLoad.Label}");
            // The same weights on the CPU, one image at a time in all three: equal to rounding.
            Assert.True(p.MaxScoreDifference <= 1e-5f, $"{p.ImagePath}: probabilities differ by {p.MaxScoreDifference} after loading");
        }
    }
}
