using Microsoft.ML;

namespace WebApi;

/// <summary>The model files the sample serves, made at first start when missing (no download needed).</summary>
public static class SampleModels
{
    public static (string Tabular, string Image) EnsureCreated(string folder, ILogger logger)
    {
        Directory.CreateDirectory(folder);
        var ml = new MLContext(seed: 1);
        var tabular = Path.Combine(folder, TabularModel.FileName);
        if (!File.Exists(tabular))
        {
            TabularModel.Create(ml, folder);
            logger.LogInformation("Wrote the tabular model {Path}", tabular);
        }
        var image = Path.Combine(folder, ImageModel.FileName);
        if (!File.Exists(image))
        {
            ImageModel.Create(ml, folder);
            logger.LogInformation("Wrote the image model {Path}", image);
        }
        return (tabular, image);
    }
}
