using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using TrtMLNet.Backends;
using TrtMLNet.Backends.TensorRt;
using TrtMLNet.Native.TensorRt;
using TrtMLNet.Onnx;
using TrtMLNet.Scoring;
using TrtMLNet.Tests.Models;

namespace TrtMLNet.Tests.TensorRt;

/// <summary>
/// TensorRT's rule that execution contexts in concurrent use each need an optimization profile of their
/// own (NvInferRuntime.h, IExecutionContext), against the fake shim on its fake device, whose executions
/// run after enqueue returns, write their outputs and hold their scratch, as a GPU's do.
/// </summary>
[Collection(TensorRtShimCollection.Name)]
public sealed class ProfilePerContextTests
{
    private const int Width = 4;

    /// <summary>x [N,4] -> y [N,4], with <paramref name="profiles"/> copies of the same profile.</summary>
    private static byte[] Plan(int profiles) => Encoding.UTF8.GetBytes(
        "FAKEPLAN\ninput x 1 [-1,4]\noutput y 1 [-1,4]\nweights 100 100\n" +
        string.Concat(Enumerable.Range(0, profiles).Select(p => $"profile {p} x [1,4] [64,4] [64,4]\nscratch {p} 65536\n")));

    private static ModelSource Twin() => new(
        Encoding.UTF8.GetBytes("FAKEONNX\ninput x 1 [-1,4]\noutput y 1 [-1,4]\n"),
        OnnxModelReader.Read(new OnnxModelBuilder().Input("x", OnnxType.Float, "N", Width).Node("Identity", ["x"], ["y"]).Output("y", OnnxType.Float, "N", Width).Build(), "twin"),
        "'x-to-y.onnx'");

    private sealed class Row
    {
        [VectorType(Width)] public float[] x { get; set; } = [];
    }

    [Fact]
    public void The_fake_refuses_two_executions_on_one_profile_at_once()
    {
        FakeShim.Require();
        FakeShim.SetWorkMicros(300_000);
        var device = FakeGpu.Instance;
        using var engine = TensorRtEngine.Load(Plan(1), device, ShimLibrary.Info);
        using var first = device.CreateStream();
        using var second = device.CreateStream();
        using var a = engine.CreateContext(0, first);
        using var b = engine.CreateContext(0, second);
        using var buffers = new Buffers(device);

        a.Enqueue(buffers.Request(first));
        var error = Assert.Throws<TensorRtException>(() => b.Enqueue(buffers.Request(second)));
        first.Synchronize();

        Assert.Contains("separate optimization profile", error.NativeMessage);
        b.Enqueue(buffers.Request(second)); // once the first has completed, the profile is free again
        second.Synchronize();
    }

    [Fact]
    public void The_engine_is_built_with_its_profile_once_per_lane()
    {
        FakeShim.Require();
        using var folder = new TempFolder();
        var options = new EngineOptions
        {
            Backend = TensorRtBackend.TensorRt,
            ConcurrentContexts = 3,
            EngineCacheDirectory = folder.Path,
            Build = new EngineBuildOptions { Profiles = [TestProfiles.Of(("x", [1, 4], [64, 4], [64, 4]))] },
        };

        using var engine = TensorRtEngineLoader.Create(Twin(), options, ShimLibrary.Info, FakeGpu.Instance, _ => { });

        Assert.Contains("profiles=3", Assert.Single(FakeShim.Calls(), c => c.StartsWith("build_engine", StringComparison.Ordinal)));
        Assert.Equal(["build_profile 0 x [1,4] [64,4] [64,4]", "build_profile 1 x [1,4] [64,4] [64,4]", "build_profile 2 x [1,4] [64,4] [64,4]"],
            FakeShim.Calls().Where(c => c.StartsWith("build_profile", StringComparison.Ordinal)));
        Assert.Equal(3, engine.Profiles.Count);
        Assert.True(engine.ContextsNeedOwnProfile);
    }

    [Fact]
    public void Lanes_run_contexts_of_their_own_profiles_and_every_row_gets_its_outputs()
    {
        var (rows, violations) = Score(skipFenceWait: false);
        Assert.Equal(0, violations);
        Assert.All(rows, r => Assert.Equal(r.Expected, r.Actual));
    }

    [Fact]
    public void Without_the_fence_wait_asynchronous_executions_share_a_slab()
    {
        var (_, violations) = Score(skipFenceWait: true);
        Assert.True(violations > 0, "Executions on one slab overlapped without the fence wait, yet the fake device saw nothing.");
    }

    /// <summary>Scores 3,000 rows through two parallel cursors on 2 lanes sharing 1 slab, on the fake device.</summary>
    private static (List<(float Expected, float Actual)> Rows, long Violations) Score(bool skipFenceWait)
    {
        FakeShim.Require();
        FakeShim.SetWorkMicros(400);
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 3000).Select(i => new Row { x = [i, 0, 0, 0] }).ToList());
        var options = new TensorRtOptions { BatchSize = 64, Lanes = 2, ScratchSlabs = 1 };
        options.Validate();
        var engine = TensorRtEngine.Load(Plan(2), FakeGpu.Instance, ShimLibrary.Info);
        var fitted = ModelFitter.Fit(options, Twin(), name => data.Schema.GetColumnOrNull(name)?.Type, FitEnvironment.Silent, _ => engine);
        using var transformer = new TensorRtTransformer(options, Twin(), fitted);
        Assert.Equal([0, 1], fitted.Runtime.Contexts.All.Select(c => c.Context.Profile).Order());
        fitted.Runtime.Pool.Arena.SkipFenceWaitForTesting = skipFenceWait;

        var scored = transformer.Transform(data);
        var results = new List<(float, float)>();
        var cursors = scored.GetRowCursorSet(scored.Schema.Where(c => c.Name is "x" or "y"), 2);
        foreach (var cursor in cursors)
        {
            using (cursor)
            {
                var x = cursor.GetGetter<VBuffer<float>>(scored.Schema["x"]);
                var y = cursor.GetGetter<VBuffer<float>>(scored.Schema["y"]);
                VBuffer<float> xs = default, ys = default;
                while (cursor.MoveNext())
                {
                    x(ref xs);
                    y(ref ys);
                    results.Add((xs.GetValues()[0], ys.GetValues()[0]));
                }
            }
        }
        Assert.Equal(3000, results.Count);
        return (results, FakeShim.ScratchViolations());
    }

    /// <summary>Host memory for one execution of x [8,4] -> y [8,4], with scratch.</summary>
    private sealed class Buffers(Device.ComputeDevice device) : IDisposable
    {
        private readonly Device.DeviceBuffer _x = device.AllocateDevice(8 * Width * 4, "x");
        private readonly Device.DeviceBuffer _y = device.AllocateDevice(8 * Width * 4, "y");
        private readonly Device.DeviceBuffer _scratch = device.AllocateDevice(65536, "scratch");

        public ExecutionRequest Request(Device.DeviceStream stream) => new()
        {
            Inputs = [new("x", TensorElementType.Float32, [8, Width], _x.Pointer, _x.Bytes)],
            Outputs = [new("y", TensorElementType.Float32, [8, Width], _y.Pointer, _y.Bytes)],
            Stream = stream,
            Scratch = _scratch.Pointer,
            ScratchBytes = _scratch.Bytes,
        };

        public void Dispose()
        {
            _x.Dispose();
            _y.Dispose();
            _scratch.Dispose();
        }
    }
}
