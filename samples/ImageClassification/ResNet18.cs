using TrtMLNet;

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
    /// first): the image stretched to 224x224, planes in B, G, R order on 0..255, minus a mean image whose
    /// planes average 103.1, 115.9 and 123.2. Per-channel means are what TrtMLNet's image input can take
    /// (ML.NET's ExtractPixels took one offset for all planes).
    /// </summary>
    public static ImageInputOptions Preprocessing(string pathColumn) => new()
    {
        Column = pathColumn,
        Resize = ImageResize.Stretch,
        Width = ImageSize,
        Height = ImageSize,
        ChannelOrder = ImageChannelOrder.Bgr,
        PixelScale = 1f,
        Mean = [103.1f, 115.9f, 123.2f],
    };

    /// <summary>Where the package's build props copy the model, under the application's folder.</summary>
    public static string DefaultModelPath => Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");
}
