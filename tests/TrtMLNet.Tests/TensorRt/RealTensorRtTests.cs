using System.Runtime.InteropServices;
using TrtMLNet.Backends;
using TrtMLNet.Backends.OnnxRuntime;
using TrtMLNet.Backends.TensorRt;
using TrtMLNet.Device;
using TrtMLNet.Native.Cuda;
using TrtMLNet.Native.TensorRt;
using TrtMLNet.Tests.Models;

namespace TrtMLNet.Tests.TensorRt;

/// <summary>
/// The TensorRT backend on real TensorRT and a real GPU: build, cache, load, shape inference and an
/// execution compared with ONNX Runtime on the CPU. They skip, saying what is missing, wherever
/// TensorRT is not installed; <see cref="RealTensorRt"/> says how to run them where it is.
/// </summary>
[Collection(TensorRtShimCollection.Name)]
public sealed class RealTensorRtTests : IDisposable
{
    private const int Batch = 8;
    private readonly TempFolder _folder = new();
    private readonly List<string> _warnings = [];

    public void Dispose() => _folder.Dispose();

    private EngineOptions Options(string? engineFile = null) => new()
    {
        Backend = TensorRtBackend.TensorRt,
        DeviceId = 0,
        EngineFile = engineFile,
        EngineCacheDirectory = Path.Combine(_folder.Path, "engines"),
        Build = new EngineBuildOptions
        {
            TimingCacheFile = Path.Combine(_folder.Path, "mlp.timing"),
            Profiles = [TestProfiles.Of(("features", [1, TestModels.MlpFeatures], [Batch, TestModels.MlpFeatures], [Batch, TestModels.MlpFeatures]))],
        },
    };

    [Fact]
    public void Builds_caches_and_describes_an_engine()
    {
        RealTensorRt.Require();
        var model = ModelSource.Load(TestModels.MlpPath);

        using (var engine = (TensorRtEngine)TensorRtEngineLoader.Create(model, Options(), _warnings.Add, _ => { }))
        {
            Assert.StartsWith("TensorRT ", engine.Description, StringComparison.Ordinal);
            var input = Assert.Single(engine.Inputs);
            Assert.Equal(("features", TensorElementType.Float32), (input.Name, input.ElementType));
            Assert.Equal([-1L, TestModels.MlpFeatures], input.Shape);
            Assert.Equal(["probabilities", "scores"], engine.Outputs.Select(o => o.Name).Order(StringComparer.Ordinal));
            Assert.Equal([(long)Batch, TestModels.MlpFeatures], engine.Profiles[0].Shapes["features"].Max);
            Assert.True(engine.Weights.Measured > 0, $"weights measured: {engine.Weights.Measured}");
            Assert.True(engine.ScratchBytes(0) >= 0);
            var shapes = engine.InferOutputShapes(new Dictionary<string, long[]> { ["features"] = [5, TestModels.MlpFeatures] });
            Assert.Equal([5L, 3], shapes["scores"]);
        }
        Assert.Single(Directory.GetFiles(Path.Combine(_folder.Path, "engines"), "*" + EngineCache.EntryExtension));
        Assert.True(new FileInfo(Path.Combine(_folder.Path, "mlp.timing")).Length > 0);

        var entry = Directory.GetFiles(Path.Combine(_folder.Path, "engines"), "*" + EngineCache.EntryExtension)[0];
        var written = File.GetLastWriteTimeUtc(entry);
        using (TensorRtEngineLoader.Create(model, Options(), _warnings.Add, _ => { }))
            Assert.Equal(written, File.GetLastWriteTimeUtc(entry)); // loaded, not rebuilt
        Assert.Empty(_warnings);
    }

    [Fact]
    public void An_execution_matches_onnx_runtime_with_an_unread_output()
    {
        RealTensorRt.Require();
        var model = ModelSource.Load(TestModels.MlpPath);
        var features = new float[Batch * TestModels.MlpFeatures];
        var random = new Random(3);
        for (var i = 0; i < features.Length; i++)
            features[i] = (float)(random.NextDouble() * 2 - 1);

        var expected = RunOnCpu(model, features);
        var actual = RunOnTensorRt(model, features);

        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 5e-3 + 5e-3 * Math.Abs(expected[i]),
                $"scores[{i}]: TensorRT {actual[i]}, ONNX Runtime {expected[i]} (TF32 may differ slightly, not by this much)");
    }

    [Fact]
    public void A_prebuilt_plan_loads_and_a_foreign_one_is_refused_in_tensorrts_words()
    {
        RealTensorRt.Require();
        var model = ModelSource.Load(TestModels.MlpPath);
        var device = CudaDriver.GetDevice(0);
        device.MakeCurrent();
        var planPath = Path.Combine(_folder.Path, "mlp.plan");
        using (var built = ShimEngineBuilder.Build(model.OnnxBytes, null, Options().Build, [], returnTimingCache: false))
            File.WriteAllBytes(planPath, built.Plan.ToArray());

        using (var engine = TensorRtEngineLoader.Create(model, Options(planPath), _warnings.Add, _ => { }))
            Assert.Equal("features", Assert.Single(engine.Inputs).Name);

        var foreign = Path.Combine(_folder.Path, "foreign.plan");
        File.WriteAllBytes(foreign, EngineCacheTests.Plan(9, 1 << 16));
        var error = Assert.Throws<TensorRtException>(() => TensorRtEngineLoader.Create(model, Options(foreign), _warnings.Add, _ => { }));
        Assert.Contains(foreign, error.Message);
        Assert.NotEmpty(error.NativeMessage);
    }

    private static float[] RunOnCpu(ModelSource model, float[] features)
    {
        using var engine = OnnxRuntimeEngine.Create(model.OnnxBytes, model.Onnx, new EngineOptions { Backend = TensorRtBackend.OnnxRuntimeCpu }, model.Name, _ => { });
        using var stream = new HostStream();
        using var context = engine.CreateContext(0, stream);
        var scores = new float[Batch * 3];
        var featuresHandle = GCHandle.Alloc(features, GCHandleType.Pinned);
        var scoresHandle = GCHandle.Alloc(scores, GCHandleType.Pinned);
        try
        {
            context.Enqueue(new ExecutionRequest
            {
                Inputs = [new("features", TensorElementType.Float32, [Batch, TestModels.MlpFeatures], featuresHandle.AddrOfPinnedObject(), features.Length * 4L)],
                Outputs = [new("scores", TensorElementType.Float32, [Batch, 3], scoresHandle.AddrOfPinnedObject(), scores.Length * 4L)],
                Stream = stream,
            });
        }
        finally
        {
            featuresHandle.Free();
            scoresHandle.Free();
        }
        return scores;
    }

    private float[] RunOnTensorRt(ModelSource model, float[] features)
    {
        using var engine = (TensorRtEngine)TensorRtEngineLoader.Create(model, Options(), _warnings.Add, _ => { });
        var device = ComputeDevice.Gpu(0);
        using var stream = device.CreateStream();
        using var input = device.AllocateDevice(features.Length * 4L, "test input");
        using var output = device.AllocateDevice(Batch * 3 * 4L, "test output");
        using var scratch = device.AllocateDevice(Math.Max(engine.ScratchBytes(0)!.Value, 1), "test scratch");
        using var context = engine.CreateContext(0, stream);
        var scores = new float[Batch * 3];
        var featuresHandle = GCHandle.Alloc(features, GCHandleType.Pinned);
        var scoresHandle = GCHandle.Alloc(scores, GCHandleType.Pinned);
        try
        {
            stream.CopyToDevice(input.Pointer, featuresHandle.AddrOfPinnedObject(), features.Length * 4L);
            // 'probabilities' is not asked for: the context binds it to its own buffer.
            context.Enqueue(new ExecutionRequest
            {
                Inputs = [new("features", TensorElementType.Float32, [Batch, TestModels.MlpFeatures], input.Pointer, features.Length * 4L)],
                Outputs = [new("scores", TensorElementType.Float32, [Batch, 3], output.Pointer, scores.Length * 4L)],
                Stream = stream,
                Scratch = scratch.Pointer,
                ScratchBytes = scratch.Bytes,
            });
            stream.CopyToHost(scoresHandle.AddrOfPinnedObject(), output.Pointer, scores.Length * 4L);
            stream.Synchronize();
        }
        finally
        {
            featuresHandle.Free();
            scoresHandle.Free();
        }
        Assert.True(((TensorRtExecutionContext)context).DiscardBytes >= Batch * 3 * 4);
        return scores;
    }
}
