namespace ImageClassification;

/// <summary>
/// The pretrained ResNet-18 of the Microsoft.ML.DnnImageFeaturizer.ResNet18 package (a CNTK export of
/// the ImageNet model), used as a feature extractor: its last pooling layer, before the ImageNet
/// classifier, describes an image in 512 numbers that a small classifier can learn new classes from.
/// </summary>
public static class ResNet18
{
    /// <summary>[1,3,224,224]: one planar BGR image.</summary>
    public const string Input = "Input247";

    /// <summary>[1,512,1,1]: the global average pool, 512 features an image.</summary>
    public const string Output = "Pooling395_Output_0";

    public const int ImageSize = 224;

    /// <summary>
    /// The package's own preprocessing (ResNetPreprocess.onnx, which ML.NET's DnnFeaturizeImage runs
    /// first) reorders the planes to BGR and subtracts a mean image whose planes average 103.1, 115.9 and
    /// 123.2. ExtractPixels takes one offset for all planes, so the sample subtracts their mean; the
    /// classifier trained on top absorbs the small difference.
    /// </summary>
    public const float PixelOffset = -114f;

    /// <summary>Where the package's build props copy the model, under the application's folder.</summary>
    public static string DefaultModelPath => Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");
}
