using Microsoft.ML;
using Microsoft.ML.Data;
using TrtMLNet.Tests.Support;

namespace TrtMLNet.Tests;

/// <summary>What the batch job prints as <c>batch_ms</c>: each stage's mean, and only the stages that took time.</summary>
[Collection(ProcessWideMetricsCollection.Name)]
public class BatchStageTimesTests
{
    private const int Width = 4;

    private sealed class Row
    {
        [VectorType(Width)] public float[] x { get; set; } = [];
    }

    [Fact]
    public void DescribesEveryStageThatTookTimeAndLeavesOutTheDevicesTurnWhereNoUploadNeedsIt()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 64).Select(i => new Row { x = [i, i + 1, i + 2, i + 3] }));
        using var stages = new BatchStageTimes();
        Assert.Null(stages.Describe());

        using var transformer = TestEngines.Fit(new MarkingEngine(Width) { MaxWork = TimeSpan.FromMilliseconds(2) }, MarkingEngine.Signature(Width), data,
            new TensorRtOptions { BatchSize = 16 });
        Assert.Equal(64, TestData.Column<float>(transformer.Transform(data), "z").Count);

        var described = stages.Describe();
        Assert.NotNull(described);
        var names = described.Split(", ").Select(stage => stage.Split(' ')[0]).ToList();
        Assert.Contains("lane", names);
        Assert.Contains("queued", names);
        Assert.Contains("compute", names);
        // No input here is written by an upload that waits for the whole device, so no lane took the turn.
        Assert.DoesNotContain("turn", names);
        Assert.DoesNotContain("prepare", names);
    }
}

/// <summary>
/// BatchStageTimes hears every transformer in the process, so a test of it runs alone: a batch of another test
/// running beside it (a fit's lane warm-up, say) once made its "nothing yet" check fail in CI.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideMetricsCollection
{
    public const string Name = "process-wide metrics";
}
