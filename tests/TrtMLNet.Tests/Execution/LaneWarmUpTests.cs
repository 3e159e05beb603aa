using Microsoft.ML;
using Microsoft.ML.Data;
using TrtMLNet.Tests.Support;
using TrtMLNet.Tests.TensorRt;

namespace TrtMLNet.Tests.Execution;

/// <summary>
/// Fitting on a GPU runs one batch on every lane (<c>Scoring/LaneWarmUp.cs</c>), so the first batches scored do
/// not pay a lane's first execution. On the fake asynchronous GPU, whose pool other tests may share.
/// </summary>
public class LaneWarmUpTests
{
    private const int Width = MarkingRows.Width;

    [Fact]
    public void Fitting_runs_one_full_batch_on_every_lane_and_scoring_then_starts_from_there()
    {
        FakeShim.Require();
        var engine = new MarkingEngine(Width, device: FakeGpu.Instance) { MaxWork = TimeSpan.FromMilliseconds(5) };
        var data = MarkingRows.Of(10);

        using var transformer = TestEngines.Fit(engine, MarkingEngine.Signature(Width), data, new TensorRtOptions { BatchSize = 4, Lanes = 3 });

        var lanes = engine.ExecutionsByThread;
        Assert.True(lanes.Count >= 3, $"The warm-up reached {lanes.Count} lane(s) of 3: {string.Join(", ", lanes.Keys)}");
        Assert.All(lanes, lane => Assert.Equal(1, lane.Value));
        Assert.All(lanes.Keys, name => Assert.StartsWith("TrtMLNet lane", name));
        Assert.Equal(4 * lanes.Count, engine.Rows);

        // Scoring after it is unaffected: every row's output is its own.
        var scored = transformer.Transform(data).GetColumn<float[]>("y").ToList();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (float)i + 1), scored.Select(y => y[0]));
    }

    [Fact]
    public void Without_the_warm_up_fitting_executes_nothing()
    {
        FakeShim.Require();
        var engine = new MarkingEngine(Width, device: FakeGpu.Instance);
        var data = MarkingRows.Of(4);

        using var transformer = TestEngines.Fit(engine, MarkingEngine.Signature(Width), data, new TensorRtOptions { BatchSize = 4, Lanes = 2, WarmUpLanes = false });

        Assert.Equal(0, engine.Executions);
    }

    [Fact]
    public void A_warm_up_the_model_refuses_is_a_warning_and_the_fit_goes_on()
    {
        FakeShim.Require();
        var engine = new MarkingEngine(Width, device: FakeGpu.Instance) { OnZeros = () => new InvalidOperationException("the marking engine refuses a batch of zeros") };
        var data = MarkingRows.Of(6);
        var warnings = new List<string>();
        var environment = new TrtMLNet.Scoring.FitEnvironment(null, null, w => { lock (warnings) warnings.Add(w); }, _ => { });

        using var transformer = TestEngines.Fit(engine, MarkingEngine.Signature(Width), data, new TensorRtOptions { BatchSize = 4, Lanes = 2 }, environment);

        Assert.Contains(warnings, w => w.Contains("warm-up batch of zeros failed") && w.Contains("refuses a batch of zeros") && w.Contains("WarmUpLanes = false"));
        var scored = transformer.Transform(data).GetColumn<float[]>("y").ToList();
        Assert.Equal(Enumerable.Range(0, 6).Select(i => (float)i + 1), scored.Select(y => y[0]));
    }

    [Fact]
    public void A_device_error_in_the_warm_up_fails_the_fit()
    {
        // Unlike memory running out or a model refusing zeros, an illegal address leaves the device unusable.
        FakeShim.Require();
        var engine = new MarkingEngine(Width, device: FakeGpu.Instance)
        {
            OnZeros = () => new CudaException(CudaError.IllegalAddress, "CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"),
        };
        var data = MarkingRows.Of(4);

        var error = Assert.Throws<CudaException>(() => TestEngines.Fit(engine, MarkingEngine.Signature(Width), data, new TensorRtOptions { BatchSize = 4, Lanes = 2 }));

        Assert.Equal(CudaError.IllegalAddress, error.Error);
    }
}
