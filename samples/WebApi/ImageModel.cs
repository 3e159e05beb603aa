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

    /// <summary>
    /// Writes the image model file. By default the package's ResNet-18; <paramref name="settings"/> can name
    /// another image network (for the GPU load test, a ResNet-50 with input "input" [N,3,224,224] and output
    /// "logits"): its tensors are then renamed to this model's columns, so the endpoints stay the same.
    /// </summary>
    public static string Create(MLContext ml, string folder, int batchSize = 16, ImageModelSettings? settings = null)
    {
        settings ??= new ImageModelSettings();
        var inputTensor = settings.InputTensor ?? Input;
        var outputTensor = settings.OutputTensor ?? Output;
        var batch = settings.BatchSize ?? batchSize;
        var tensorRt = ml.Transforms.ApplyTensorRt(new TensorRtOptions
        {
            ModelFile = settings.OnnxFile ?? PackagedResNet18,
            InputColumns = [inputTensor],
            OutputColumns = [outputTensor],
            OpenBatchDimension = settings.OnnxFile is null,
            BatchSize = batch,
            // A served batch holds the requests waiting, often a few: on ONNX Runtime CUDA each of these sizes gets
            // a session tuned for it, so one request does not run as a batch of 16 (see docs/serving.md).
            BatchBuckets = settings.BatchBuckets ?? TensorRtOptions.PowerOfTwoBuckets(batch),
            Backend = settings.Backend,
            DeviceId = settings.Device,
            FallbackToCpu = true,
        });
        IEstimator<ITransformer> pipeline = inputTensor == Input && outputTensor == Output
            ? tensorRt
            : ml.Transforms.CopyColumns(inputTensor, Input).Append(tensorRt).Append(ml.Transforms.CopyColumns(Output, outputTensor));
        var data = ml.Data.LoadFromEnumerable(new[] { new ImageInput { Pixels = new float[3 * Size * Size] } });
        var model = pipeline.Fit(data);
        var path = Path.Combine(folder, FileName);
        ml.Model.Save(model, data.Schema, path);
        (model as IDisposable)?.Dispose();
        return path;
    }
}

/// <summary>Which image network the sample serves (configuration section "Models:Image"); nulls take the packaged ResNet-18.</summary>
public sealed class ImageModelSettings
{
    public string? OnnxFile { get; set; }

    public string? InputTensor { get; set; }

    public string? OutputTensor { get; set; }

    public int? BatchSize { get; set; }

    /// <summary>TensorRtOptions.BatchBuckets; null: 1, 2, 4, ... below BatchSize.</summary>
    public int[]? BatchBuckets { get; set; }

    public TensorRtBackend Backend { get; set; } = TensorRtBackend.Auto;

    public int? Device { get; set; }
}
