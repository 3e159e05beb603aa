using Microsoft.ML;

namespace WebApi;

/// <summary>The model files the sample serves, made at first start when missing (no download needed).</summary>
public static class SampleModels
{
    public static (string Tabular, string Image) EnsureCreated(string folder, ImageModelSettings image, ILogger logger)
    {
        Directory.CreateDirectory(folder);
        var ml = new MLContext(seed: 1);
        var tabular = Path.Combine(folder, TabularModel.FileName);
        if (!File.Exists(tabular))
        {
            TabularModel.Create(ml, folder);
            logger.LogInformation("Wrote the tabular model {Path}", tabular);
        }
        var imageFile = Path.Combine(folder, ImageModel.FileName);
        if (!File.Exists(imageFile))
        {
            ImageModel.Create(ml, folder, settings: image);
            logger.LogInformation("Wrote the image model {Path} from {Onnx}", imageFile, image.OnnxFile ?? ImageModel.PackagedResNet18);
        }
        return (tabular, imageFile);
    }
}
