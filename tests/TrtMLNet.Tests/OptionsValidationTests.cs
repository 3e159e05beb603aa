using Microsoft.ML;
using TrtMLNet.Tests.Models;

namespace TrtMLNet.Tests;

/// <summary>
/// Every option is checked once, where options enter: ApplyTensorRt, and loading a saved model with
/// changed options. Nothing is clamped later; the error names the option and what it takes.
/// </summary>
public class OptionsValidationTests
{
    public static TheoryData<string, string> BadOptions => new()
    {
        { "BatchSize", "BatchSize must be at least 1" },
        { "Lanes", "Lanes must be at least 1" },
        { "ReadAheadBatches", "ReadAheadBatches must be at least 1" },
        { "ContextsPerEngine", "ContextsPerEngine must be at least 1" },
        { "ScratchSlabs", "ScratchSlabs must be at least 1" },
        { "IntraOpThreads", "IntraOpThreads must be at least 1" },
        { "WorkspaceBytes", "WorkspaceBytes must be at least 0" },
        { "MaxAuxStreams", "MaxAuxStreams must be at least 0" },
        { "DeviceId", "DeviceId must be at least 0" },
        { "BuilderOptimizationLevel", "between 0 and 5" },
        { "Tactics", "both enabled and disabled" },
        { "Backend", "not a TensorRtBackend" },
        { "BatchBucketZero", "BatchBuckets must each be between 1 and BatchSize" },
        { "BatchBucketAboveBatchSize", "BatchBuckets must each be between 1 and BatchSize" },
    };

    private static void Spoil(TensorRtOptions options, string option)
    {
        switch (option)
        {
            case "BatchSize": options.BatchSize = 0; break;
            case "Lanes": options.Lanes = 0; break;
            case "ReadAheadBatches": options.ReadAheadBatches = 0; break;
            case "ContextsPerEngine": options.ContextsPerEngine = 0; break;
            case "ScratchSlabs": options.ScratchSlabs = 0; break;
            case "IntraOpThreads": options.IntraOpThreads = 0; break;
            case "WorkspaceBytes": options.WorkspaceBytes = -1; break;
            case "MaxAuxStreams": options.MaxAuxStreams = -1; break;
            case "DeviceId": options.DeviceId = -1; break;
            case "BuilderOptimizationLevel": options.BuilderOptimizationLevel = 6; break;
            case "Tactics":
                options.EnableTactics = TensorRtTacticSources.Cudnn;
                options.DisableTactics = TensorRtTacticSources.Cudnn;
                break;
            case "Backend": options.Backend = (TensorRtBackend)42; break;
            case "BatchBucketZero": options.BatchBuckets = [0, 2]; break;
            case "BatchBucketAboveBatchSize": options.BatchBuckets = [2, options.BatchSize + 1]; break;
            default: throw new ArgumentOutOfRangeException(nameof(option));
        }
    }

    [Theory]
    [InlineData(1, new int[0])]
    [InlineData(2, new[] { 1 })]
    [InlineData(64, new[] { 1, 2, 4, 8, 16, 32 })]
    [InlineData(100, new[] { 1, 2, 4, 8, 16, 32, 64 })]
    public void PowerOfTwoBuckets_are_the_powers_of_two_below_the_batch_size(int batchSize, int[] buckets)
    {
        Assert.Equal(buckets, TensorRtOptions.PowerOfTwoBuckets(batchSize));
        new TensorRtOptions { ModelFile = TestModels.MlpPath, BatchSize = batchSize, BatchBuckets = buckets }.Validate();
    }

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void ApplyTensorRt_refuses_a_bad_option_naming_it(string option, string words)
    {
        var options = new TensorRtOptions { ModelFile = TestModels.MlpPath };
        Spoil(options, option);

        var error = Assert.ThrowsAny<ArgumentException>(() => new MLContext().Transforms.ApplyTensorRt(options));

        Assert.Contains(words, error.Message);
    }

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Loading_a_saved_model_refuses_a_bad_option_the_same_way(string option, string words)
    {
        var ml = new MLContext(seed: 1);
        var data = Support.TestData.Mlp(ml, 4);
        var path = Path.Combine(TestModels.Folder, $"saved-{option}.zip");
        using (var model = ml.Transforms.ApplyTensorRt(TestModels.MlpPath, batchSize: 4).Fit(data))
            ml.Model.Save(model, data.Schema, path);

        var error = Assert.ThrowsAny<ArgumentException>(() => ml.Model.LoadWithTensorRt(path, out _, o => Spoil(o, option)));

        Assert.Contains(words, error.Message);
    }
}
