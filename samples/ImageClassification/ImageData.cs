namespace ImageClassification;

/// <summary>A row the model reads (Model Builder's ModelInput): an image file and, to train, its label.</summary>
public sealed class ImageInput
{
    /// <summary>The image's full path: the model's LoadImages has no folder of its own, so it scores files from anywhere.</summary>
    public string ImagePath { get; set; } = "";

    /// <summary>The class; ignored when predicting.</summary>
    public string Label { get; set; } = "";

    public static ImageInput From(LabelledImage image) => new() { ImagePath = image.Path, Label = image.Label };
}

/// <summary>What the model gives for a row (Model Builder's ModelOutput).</summary>
public sealed class ImagePrediction
{
    public string PredictedLabel { get; set; } = "";

    /// <summary>One probability per class, in the order of the label's key values (alphabetical here).</summary>
    public float[] Score { get; set; } = [];
}
