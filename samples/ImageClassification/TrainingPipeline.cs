using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using TrtMLNet;

namespace ImageClassification;

/// <summary>
/// Transfer learning as Model Builder's image classification did it with ML.NET's DNN featurizer:
/// a pretrained network turns each image into features and a linear classifier learns the classes from
/// them. Here ApplyTensorRt runs the network, in batches and on the fastest backend present.
/// </summary>
public static class TrainingPipeline
{
    public const string FeaturesColumn = "Features";

    public static EstimatorChain<KeyToValueMappingTransformer> Create(MLContext ml, SampleOptions options, string modelFile) =>
        // The network reads the images itself: TrtMLNet decodes the paths while it fills each batch (on every
        // core, or with nvJPEG on the GPU), with no ML.NET image column in between. ImagePath holds full
        // paths, so the saved model scores images from any folder.
        ml.Transforms.ApplyTensorRt(new TensorRtOptions
            {
                ModelFile = modelFile,
                InputColumns = [ResNet18.Input],
                OutputColumns = [ResNet18.Output],
                ImageInputs = new Dictionary<string, ImageInputOptions> { [ResNet18.Input] = ResNet18.Preprocessing(nameof(ImageInput.ImagePath)) },
                OpenBatchDimension = true,
                BatchSize = options.BatchSize,
                Backend = options.Backend,
                DeviceId = options.DeviceId,
                FallbackToCpu = options.FallbackToCpu,
            })
            // Fitting what follows reads the features twice (NormalizeMinMax for its ranges, then the
            // trainer), and each read would run ResNet-18 over every image again. ML.NET caches a column
            // when it is first read, so this keeps the features and the label, not the images or pixels.
            .AppendCacheCheckpoint(ml)
            // Keys sorted by value, so the classes come in alphabetical order in the metrics and the scores.
            .Append(ml.Transforms.Conversion.MapValueToKey(nameof(ImageInput.Label), keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue))
            // The pooled activations range from 0 to a few tens; on a common scale L-BFGS converges in fewer
            // iterations and one L2 weight suits every feature.
            .Append(ml.Transforms.NormalizeMinMax(FeaturesColumn, ResNet18.Output))
            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(nameof(ImageInput.Label), FeaturesColumn))
            .Append(ml.Transforms.Conversion.MapKeyToValue(nameof(ImagePrediction.PredictedLabel)));
}
