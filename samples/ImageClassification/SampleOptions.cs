using TrtMLNet;

namespace ImageClassification;

/// <summary>What one run of the sample does; the command line fills it, a test sets it directly.</summary>
public sealed record SampleOptions
{
    /// <summary>Where the drawn images, the new images and the saved model go.</summary>
    public required string OutputFolder { get; init; }

    /// <summary>Your own labelled images (a folder per class); null draws the shape set.</summary>
    public string? ImageFolder { get; init; }

    /// <summary>Classes to draw, the first of <see cref="ShapeImages.Classes"/>.</summary>
    public int Classes { get; init; } = 4;

    /// <summary>Images drawn per class, training and test together.</summary>
    public int ImagesPerClass { get; init; } = 40;

    /// <summary>Share of each class held out for evaluation.</summary>
    public double TestFraction { get; init; } = 0.25;

    /// <summary>Fresh images drawn (or test images taken) to show the PredictionEngine.</summary>
    public int NewImages { get; init; } = 8;

    /// <summary>Seeds the drawing, the split and ML.NET, so a run repeats exactly.</summary>
    public int Seed { get; init; } = 1;

    public TensorRtBackend Backend { get; init; } = TensorRtBackend.Auto;

    public int? DeviceId { get; init; }

    /// <summary><see cref="TensorRtOptions.FallbackToCpu"/>: null lets Auto end on the CPU and an explicit GPU backend fail.</summary>
    public bool? FallbackToCpu { get; init; }

    /// <summary>Images per ResNet-18 run. 16 keeps a CPU busy without much memory; a GPU likes 64 and more.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>The ResNet-18 ONNX model; null takes the one the DnnImageFeaturizer package copies into the output.</summary>
    public string? ModelFile { get; init; }
}
