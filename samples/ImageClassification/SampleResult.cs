using Microsoft.ML.Data;
using TrtMLNet;

namespace ImageClassification;

/// <summary>Everything a run measured, for Program to print and a test to check.</summary>
public sealed record SampleResult
{
    /// <summary>The classes in the order of the label's keys: the order of <see cref="MulticlassClassificationMetrics.PerClassLogLoss"/>, the confusion matrix and the scores.</summary>
    public required IReadOnlyList<string> Classes { get; init; }

    public required int TrainImages { get; init; }

    public required int TestImages { get; init; }

    /// <summary>The backend ApplyTensorRt ran on (never Auto) and, in words, where.</summary>
    public required TensorRtBackend Backend { get; init; }

    public required string BackendDescription { get; init; }

    /// <summary>Images per ResNet-18 run.</summary>
    public required int BatchSize { get; init; }

    /// <summary>The faster backends Auto passed over, with why (TrtMLNet's own list).</summary>
    public required IReadOnlyList<TrtMLNet.SkippedBackend> SkippedBackends { get; init; }

    /// <summary>On the test images, which the model never saw.</summary>
    public required MulticlassClassificationMetrics Metrics { get; init; }

    public required string ModelPath { get; init; }

    /// <summary>The stages of the saved model as ML.NET's Load gives them back (the ApplyTensorRt stage as an OnnxTransformer).</summary>
    public required IReadOnlyList<string> MlNetLoadStages { get; init; }

    /// <summary>The stages as TrtMLNet's LoadWithTensorRt gives them back (the ApplyTensorRt stage as itself).</summary>
    public required IReadOnlyList<string> TensorRtLoadStages { get; init; }

    /// <summary>The backend of the ApplyTensorRt stage that LoadWithTensorRt rebuilt.</summary>
    public required string ReloadedBackendDescription { get; init; }

    /// <summary>The same images through the trained model and the model loaded back by TrtMLNet.</summary>
    public required IReadOnlyList<PredictionComparison> Predictions { get; init; }

    public required IReadOnlyList<(string Step, TimeSpan Took)> Timings { get; init; }
}

/// <summary>One image's prediction by the trained model and by the model loaded back with TrtMLNet.</summary>
public sealed record PredictionComparison(string ImagePath, string TrueLabel, Prediction Trained, Prediction TensorRtLoad)
{
    /// <summary>Whether the reloaded model predicts the trained model's label.</summary>
    public bool LabelsAgree => Trained.Label == TensorRtLoad.Label;

    /// <summary>
    /// The largest difference of a class probability between the trained model and the reloaded one: the
    /// same weights and preprocessing, so zero on the same backend and small across backends (TF32 rounds).
    /// </summary>
    public float MaxScoreDifference => Trained.MaxDifference(TensorRtLoad);
}

/// <summary>A predicted label, its probability, and every class's probability.</summary>
public sealed record Prediction(string Label, float Probability, IReadOnlyList<float> Scores)
{
    public static Prediction From(ImagePrediction p) => new(p.PredictedLabel, p.Score.Max(), p.Score.ToArray());

    public float MaxDifference(Prediction other) =>
        Scores.Count == other.Scores.Count
            ? Scores.Zip(other.Scores).Max(p => Math.Abs(p.First - p.Second))
            : throw new InvalidOperationException($"The predictions score {Scores.Count} and {other.Scores.Count} classes.");
}
