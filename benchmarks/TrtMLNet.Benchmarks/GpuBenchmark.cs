using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using TrtMLNet.Backends;
using TrtMLNet.Backends.OnnxRuntime;
using TrtMLNet.Native.Cuda;
using OrtType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;

namespace TrtMLNet.Benchmarks;

/// <summary>
/// On the GPU: ApplyTensorRt (ONNX Runtime CUDA) against ApplyOnnxModel with a GPU device id, and
/// against the raw engine (one ONNX Runtime CUDA session running device-resident inputs and outputs
/// through IO binding, no copies at all), at several batch sizes; and a per-batch breakdown of
/// ApplyTensorRt like trtexec's: host fill, H2D, compute, D2H.
/// </summary>
internal static class GpuBenchmark
{
    private sealed record Model(string Name, string Path, IDataView Data, string[] Inputs, string Output, IDictionary<string, int[]>? ShapeDictionary);

    public static void Run(string modelsFolder, int[] batchSizes, int passes, int rows, string? only, int lanes, int readAhead, TextWriter report)
    {
        var device = CudaDriver.GetDevice(0);
        var ml = new MLContext(seed: 1);
        report.WriteLine($"# GPU: {device.Name} (compute {device.ComputeCapability}, {device.TotalMemory >> 30} GiB), CUDA driver {CudaDriver.DriverVersion}, ONNX Runtime {OrtEnv.Instance().GetVersionString()}");
        report.WriteLine();
        var models = new[]
        {
            new Model("ResNet-50 fp32", Path.Combine(modelsFolder, "resnet50.onnx"), ml.Data.Cache(Images(ml, rows)), ["input"], "logits", null),
            new Model("BERT-base fp32, sequence 128", Path.Combine(modelsFolder, "bert-base.onnx"), ml.Data.Cache(Tokens(ml, rows, 128)), ["input_ids", "attention_mask"], "pooler_output",
                new Dictionary<string, int[]> { ["input_ids"] = [1, 128], ["attention_mask"] = [1, 128] }),
        };
        foreach (var model in models.Where(m => only is null || m.Name.Contains(only, StringComparison.OrdinalIgnoreCase)))
            RunModel(ml, model, batchSizes, passes, lanes, readAhead, report);
    }

    private static void RunModel(MLContext ml, Model model, int[] batchSizes, int passes, int lanes, int readAhead, TextWriter report)
    {
        report.WriteLine($"## {model.Name} (ApplyTensorRt: {lanes} lanes, {readAhead} batches read ahead per cursor)");
        report.WriteLine();
        var onnx = ml.Transforms.ApplyOnnxModel([model.Output], model.Inputs, model.Path, model.ShapeDictionary, gpuDeviceId: 0, fallbackToCpu: false, recursionLimit: 100).Fit(model.Data);
        // ApplyOnnxModel runs one row at a time whatever the batch: measure it once, on a share of the rows.
        var reference = Throughput.Compare([new("ApplyOnnxModel(gpuDeviceId: 0)", ml.Data.TakeRows(onnx.Transform(model.Data), 512), model.Output)], passes)[0];
        report.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ApplyOnnxModel(gpuDeviceId: 0): {reference.RowsPerSecond:N0} rows/s (median of {passes}; min {reference.Min:N0}, max {reference.Max:N0})"));
        report.WriteLine();
        report.WriteLine("| batch | ApplyTensorRt rows/s | 4 cursors rows/s | raw engine rows/s | vs ApplyOnnxModel | vs raw | host fill ms | H2D ms | compute ms | D2H ms |");
        report.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var batch in batchSizes)
        {
            var options = new TensorRtOptions
            {
                ModelFile = model.Path,
                InputColumns = model.Inputs,
                OutputColumns = [model.Output],
                Backend = TensorRtBackend.OnnxRuntimeCuda,
                BatchSize = batch,
                Lanes = lanes,
                ReadAheadBatches = readAhead,
                FallbackToCpu = false,
            };
            using var transformer = ml.Transforms.ApplyTensorRt(options).Fit(model.Data);
            var scored = transformer.Transform(model.Data);
            var results = Throughput.Compare([new("ApplyTensorRt", scored, model.Output), new("ApplyTensorRt, 4 cursors", scored, model.Output, Cursors: 4)], passes);
            var raw = RawEngine(model, batch, passes);
            var stages = Breakdown(transformer, scored, model.Output);
            report.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {batch} | {results[0].RowsPerSecond:N0} | {results[1].RowsPerSecond:N0} | {raw:N0} | {results[0].RowsPerSecond / reference.RowsPerSecond:0.0}x | {results[0].RowsPerSecond / raw:P0} | {stages.Fill:0.00} | {stages.H2D:0.00} | {stages.Compute:0.00} | {stages.D2H:0.00} |"));
            report.Flush();
        }
        onnx.Dispose();
        report.WriteLine();
    }

    /// <summary>Median per-batch stage times of one scoring pass (full batches only).</summary>
    private static (double Fill, double H2D, double Compute, double D2H) Breakdown(TensorRtTransformer transformer, IDataView scored, string output)
    {
        var timings = new List<(double, double, double, double)>();
        transformer.Fitted.BatchTimed = (t, rows) =>
        {
            if (rows == transformer.BatchSize)
                lock (timings) timings.Add((t.HostFillMs, t.HostToDeviceMs, t.ComputeMs, t.DeviceToHostMs));
        };
        Throughput.Compare([new("timed", scored, output)], passes: 1);
        transformer.Fitted.BatchTimed = null;
        if (timings.Count == 0)
            return (double.NaN, double.NaN, double.NaN, double.NaN);
        return (Throughput.Median(timings.Select(t => t.Item1).ToList()), Throughput.Median(timings.Select(t => t.Item2).ToList()),
            Throughput.Median(timings.Select(t => t.Item3).ToList()), Throughput.Median(timings.Select(t => t.Item4).ToList()));
    }

    /// <summary>
    /// The engine alone: one session, inputs and outputs already on the device (bound once), runs back to
    /// back on one thread, as trtexec --noDataTransfers measures. Rows/s = batch / time per run.
    /// </summary>
    private static double RawEngine(Model model, int batch, int passes)
    {
        var device = CudaDriver.GetDevice(0);
        using var sessionOptions = OnnxRuntimeSessionOptions.Create(new EngineOptions { Backend = TensorRtBackend.OnnxRuntimeCuda, DeviceId = 0 });
        using var session = new InferenceSession(model.Path, sessionOptions);
        using var memoryInfo = new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA, OrtAllocatorType.DeviceAllocator, 0, OrtMemType.Default);
        using var binding = session.CreateIoBinding();
        using var runOptions = new RunOptions();
        var owned = new List<IDisposable>();
        try
        {
            foreach (var (name, meta) in session.InputMetadata)
                Bind(name, meta, isInput: true);
            foreach (var (name, meta) in session.OutputMetadata)
                Bind(name, meta, isInput: false);
            for (var i = 0; i < 5; i++)
                session.RunWithBinding(runOptions, binding);
            var samples = new List<double>();
            for (var p = 0; p < passes; p++)
            {
                var watch = Stopwatch.StartNew();
                var runs = 0;
                while (watch.Elapsed < TimeSpan.FromSeconds(1))
                {
                    session.RunWithBinding(runOptions, binding);
                    runs++;
                }
                samples.Add(runs * (double)batch / watch.Elapsed.TotalSeconds);
            }
            return Throughput.Median(samples);
        }
        finally
        {
            foreach (var o in owned) o.Dispose();
        }

        void Bind(string name, NodeMetadata meta, bool isInput)
        {
            var shape = meta.Dimensions.Select((d, i) => d > 0 ? d : i == 0 ? batch : 128).Select(d => (long)d).ToArray();
            var elementSize = meta.ElementDataType is OrtType.Int64 or OrtType.Double ? 8 : 4;
            var bytes = shape.Aggregate(1L, (a, b) => a * b) * elementSize;
            var memory = device.Allocate(bytes, name);
            owned.Add(memory);
            using (var stream = device.CreateStream())
            {
                stream.Memset(memory.Pointer, 0, bytes); // zeros: valid token ids and masks, harmless pixels
                stream.Synchronize();
            }
            var value = OrtValue.CreateTensorValueWithData(memoryInfo, meta.ElementDataType, shape, memory.Pointer, bytes);
            owned.Add(value);
            if (isInput) binding.BindInput(name, value);
            else binding.BindOutput(name, value);
        }
    }

    private static IDataView Images(MLContext ml, int rows)
    {
        var random = new Random(7);
        var builder = new DataViewSchema.Builder();
        builder.AddColumn("input", new VectorDataViewType(NumberDataViewType.Single, 3, 224, 224));
        return new InMemoryVectors(builder.ToSchema(), Enumerable.Range(0, rows).Select(_ => Enumerable.Range(0, 3 * 224 * 224).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()).ToList());
    }

    private sealed class TokenRow
    {
        [ColumnName("input_ids"), VectorType(128)] public long[] Ids { get; set; } = [];
        [ColumnName("attention_mask"), VectorType(128)] public long[] Mask { get; set; } = [];
    }

    private static IDataView Tokens(MLContext ml, int rows, int sequence)
    {
        var random = new Random(8);
        return ml.Data.LoadFromEnumerable(Enumerable.Range(0, rows).Select(_ =>
        {
            var length = random.Next(16, sequence + 1);
            return new TokenRow
            {
                Ids = Enumerable.Range(0, sequence).Select(i => i < length ? (long)random.Next(1000, 30000) : 0L).ToArray(),
                Mask = Enumerable.Range(0, sequence).Select(i => i < length ? 1L : 0L).ToArray(),
            };
        }).ToList());
    }
}
