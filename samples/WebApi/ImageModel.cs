using Microsoft.ML;
using Microsoft.ML.Data;
using TrtMLNet;

namespace WebApi;

/// <summary>What a client posts to the image endpoint (Model Builder's image ModelInput): the image file's bytes, base64 in JSON.</summary>
public sealed class ImageRequest
{
    public byte[] ImageSource { get; set; } = [];
}

/// <summary>The image model's row: the image as ResNet-18 takes it, 3 planes (B, G, R) of 224x224, mean subtracted.</summary>
public sealed class ImageInput
{
    [ColumnName(ImageModel.Input), VectorType(3, ImageModel.Size, ImageModel.Size)]
    public float[] Pixels { get; set; } = [];
}

/// <summary>The image model's prediction: ResNet-18's 512 pooled features of the image.</summary>
public sealed class ImageOutput
{
    [ColumnName(ImageModel.Output)]
    public float[] Features { get; set; } = [];
}

/// <summary>
/// An image featurizer: ResNet-18 (the ONNX model that ships in the Microsoft.ML.DnnImageFeaturizer.ResNet18
/// package, exported with a batch of 1: ApplyTensorRt opens that dimension, so a batch is one run). Its 512
/// features are what Model Builder's image classification trains on and what a similarity search stores.
/// The endpoint decodes and resizes the posted image (<see cref="ImageFiles.ToInput"/>) on the request's thread and
/// the pool batches the network. ML.NET's LoadImages reads only paths, and a model whose input is an
/// in-memory MLImage saves no input schema, so decoding stays outside the model.
/// </summary>
public static class ImageModel
{
    public const int Size = 224;
    public const string Input = "Input247";
    public const string Output = "Pooling395_Output_0";
    public const string FileName = "image.zip";

    /// <summary>The package's preprocessing subtracts a mean image whose planes average 103.1, 115.9 and 123.2; one offset for all is close.</summary>
    public const float PixelOffset = -114f;

    public static string PackagedResNet18 => Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");

    public static string Create(MLContext ml, string folder, int batchSize = 16, string? modelFile = null)
    {
        var pipeline = ml.Transforms.ApplyTensorRt(new TensorRtOptions
        {
            ModelFile = modelFile ?? PackagedResNet18,
            InputColumns = [Input],
            OutputColumns = [Output],
            OpenBatchDimension = true,
            BatchSize = batchSize,
            FallbackToCpu = true,
        });
        var data = ml.Data.LoadFromEnumerable(new[] { new ImageInput { Pixels = new float[3 * Size * Size] } });
        using var model = pipeline.Fit(data);
        var path = Path.Combine(folder, FileName);
        ml.Model.Save(model, data.Schema, path);
        return path;
    }
}
