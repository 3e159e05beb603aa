using Microsoft.ML;
using Microsoft.ML.Data;
using SkiaSharp;
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
/// The endpoint decodes and resizes the posted image (<see cref="ToInput"/>) on the request's thread and
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

    /// <summary>Decodes an image file's bytes, resizes it to 224x224 and lays its pixels out as the model takes them.</summary>
    public static ImageInput ToInput(byte[] imageFile)
    {
        using var codec = SKCodec.Create(new SKMemoryStream(imageFile))
            ?? throw new BadHttpRequestException("imageSource is not an image this server can decode (PNG, JPEG, BMP, GIF or WebP).");
        using var decoded = SKBitmap.Decode(codec)
            ?? throw new BadHttpRequestException("imageSource is not an image this server can decode (PNG, JPEG, BMP, GIF or WebP).");
        using var resized = decoded.Resize(new SKImageInfo(Size, Size, SKColorType.Bgra8888, SKAlphaType.Premul), SKFilterQuality.Medium)
            ?? throw new BadHttpRequestException("imageSource could not be resized to 224x224.");
        var pixels = new float[3 * Size * Size];
        var plane = Size * Size;
        var bytes = resized.GetPixelSpan();
        for (var i = 0; i < plane; i++)
        {
            pixels[i] = bytes[i * 4] + PixelOffset;                 // B
            pixels[plane + i] = bytes[i * 4 + 1] + PixelOffset;     // G
            pixels[2 * plane + i] = bytes[i * 4 + 2] + PixelOffset; // R
        }
        return new ImageInput { Pixels = pixels };
    }

    /// <summary>A smooth test image as PNG bytes, as a client would post it (small, which keeps load-test bodies small).</summary>
    public static byte[] GradientPng(int seed)
    {
        using var bitmap = new SKBitmap(Size, Size, SKColorType.Bgra8888, SKAlphaType.Premul);
        for (var y = 0; y < Size; y++)
            for (var x = 0; x < Size; x++)
                bitmap.SetPixel(x, y, new SKColor((byte)(x + seed), (byte)(y * 2 + seed), (byte)((x + y) / 2)));
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 90);
        return data.ToArray();
    }
}
