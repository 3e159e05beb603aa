using Microsoft.Extensions.ObjectPool;
using Microsoft.ML;
using Microsoft.ML.Data;
using TrtMLNet;
using TrtMLNet.Serving.Baseline;
using WebApi;

namespace TrtMLNet.Serving.Benchmarks;

/// <summary>A model to load-test: the pool's model, the baselines' models, and rows to send.</summary>
public sealed record Scenario<TIn, TOut>(string Name, ITransformer PoolModel, DataViewSchema? PoolSchema,
    IReadOnlyList<(string Name, ObjectPool<PredictionEngine<TIn, TOut>> Engines)> Baselines, IReadOnlyList<TIn> Rows, string Backend)
    where TIn : class where TOut : class, new();

public sealed class ResNet50Input
{
    [ColumnName("input"), VectorType(3, 224, 224)]
    public float[] Pixels { get; set; } = [];
}

public sealed class ResNet50Output
{
    [ColumnName("logits")]
    public float[] Logits { get; set; } = [];
}

/// <summary>The benchmark's models: the web sample's MLP and ResNet-18, and a ResNet-50 ONNX file brought along.</summary>
public static class Scenarios
{
    public static Scenario<TabularInput, TabularOutput> Mlp(MLContext ml, string folder, BenchmarkOptions options, string[] baselines)
    {
        var file = TabularModel.Create(ml, folder, batchSize: options.EngineBatchSize);
        var pool = ml.Model.LoadWithTensorRt(file, out var schema, o => Configure(o, options));
        var random = new Random(1);
        var rows = Enumerable.Range(0, 1024).Select(_ => TabularModel.Row(random)).ToList();
        return new(file, pool, schema, Baselines<TabularInput, TabularOutput>(ml, file, baselines, options), rows, Describe(pool));
    }

    public static Scenario<ImageInput, ImageOutput> ResNet18(MLContext ml, string folder, BenchmarkOptions options, string[] baselines)
    {
        var file = ImageModel.Create(ml, folder, batchSize: options.EngineBatchSize);
        var pool = ml.Model.LoadWithTensorRt(file, out var schema, o => Configure(o, options));
        var rows = RandomImages(16, 3 * 224 * 224, p => new ImageInput { Pixels = p }, offset: ImageModel.PixelOffset);
        return new(file, pool, schema, Baselines<ImageInput, ImageOutput>(ml, file, baselines, options), rows, Describe(pool));
    }

    /// <summary>resnet50.onnx (input "input" [N,3,224,224], output "logits"), saved as an ML.NET model so both sides load it as a server would.</summary>
    public static Scenario<ResNet50Input, ResNet50Output> ResNet50(MLContext ml, string folder, BenchmarkOptions options, string[] baselines)
    {
        var onnx = Path.Combine(options.ModelsFolder ?? throw new ArgumentException("--models-folder is needed for resnet50: a folder with resnet50.onnx."), "resnet50.onnx");
        if (!File.Exists(onnx))
            throw new FileNotFoundException($"No resnet50.onnx in '{options.ModelsFolder}' (input 'input' [N,3,224,224], output 'logits').", onnx);
        var tensorRt = new TensorRtOptions { ModelFile = onnx, InputColumns = ["input"], OutputColumns = ["logits"], BatchSize = options.EngineBatchSize };
        Configure(tensorRt, options);
        var data = ml.Data.LoadFromEnumerable(new[] { new ResNet50Input { Pixels = new float[3 * 224 * 224] } });
        var file = Path.Combine(folder, "resnet50.zip");
        using (var fitted = ml.Transforms.ApplyTensorRt(tensorRt).Fit(data))
            ml.Model.Save(fitted, data.Schema, file);
        var pool = ml.Model.LoadWithTensorRt(file, out var schema, o => Configure(o, options));
        var rows = RandomImages(16, 3 * 224 * 224, p => new ResNet50Input { Pixels = p }, offset: -0.5f, scale: 1f / 255);
        return new(file, pool, schema, Baselines<ResNet50Input, ResNet50Output>(ml, file, baselines, options), rows, Describe(pool));
    }

    private static void Configure(TensorRtOptions options, BenchmarkOptions benchmark)
    {
        options.Backend = benchmark.Backend;
        options.DeviceId = benchmark.Device;
        options.BatchSize = benchmark.EngineBatchSize;
        options.BatchBuckets = benchmark.BatchBuckets;
        if (benchmark.Lanes is { } lanes)
            options.Lanes = lanes;
        if (benchmark.CudaGraphs)
            options.CudaGraphs = true;
        options.Precision = benchmark.Precision;
    }

    /// <summary>
    /// "onnx": the model as ML.NET's Load gives it (its TrtMLNet stage as ML.NET's OnnxTransformer, on the GPU
    /// when --device is given), which is what PredictionEnginePool.FromFile serves. "trt": the model as
    /// LoadWithTensorRt gives it, one row per call through TrtMLNet's row mapper.
    /// </summary>
    private static List<(string, ObjectPool<PredictionEngine<TIn, TOut>>)> Baselines<TIn, TOut>(MLContext ml, string file, string[] which, BenchmarkOptions options)
        where TIn : class where TOut : class, new()
    {
        var list = new List<(string, ObjectPool<PredictionEngine<TIn, TOut>>)>();
        foreach (var name in which)
        {
            ITransformer model;
            DataViewSchema schema;
            switch (name)
            {
                case "onnx":
                    var context = new MLContext { GpuDeviceId = options.Device, FallbackToCpu = true };
                    model = context.Model.Load(file, out schema);
                    list.Add(("PredictionEnginePool (ML.NET Load)", PredictionEnginePolicy<TIn, TOut>.CreatePool(context, model, schema)));
                    break;
                case "trt":
                    model = ml.Model.LoadWithTensorRt(file, out schema, o => Configure(o, options));
                    list.Add(("PredictionEnginePool (LoadWithTensorRt)", PredictionEnginePolicy<TIn, TOut>.CreatePool(ml, model, schema)));
                    break;
                default:
                    throw new ArgumentException($"Unknown baseline '{name}': use onnx, trt or both, comma-separated.");
            }
        }
        return list;
    }

    private static List<T> RandomImages<T>(int count, int size, Func<float[], T> make, float offset, float scale = 1f)
    {
        var random = new Random(18);
        return Enumerable.Range(0, count).Select(_ => make(Enumerable.Range(0, size).Select(_ => (float)(random.NextDouble() * 255) * scale + offset).ToArray())).ToList();
    }

    private static string Describe(ITransformer model) =>
        string.Join("; ", Stages(model).Select(s => $"{s.BackendDescription}, engine batch {s.BatchSize}"));

    private static IEnumerable<TensorRtTransformer> Stages(ITransformer model) => model switch
    {
        TensorRtTransformer stage => [stage],
        IEnumerable<ITransformer> chain => chain.SelectMany(Stages),
        _ => [],
    };
}
