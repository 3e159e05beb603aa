using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using TrtMLNet.Backends;
using TrtMLNet.Native.Cuda;

namespace TrtMLNet.Benchmarks;

/// <summary>
/// On the GPU, for ResNet-50 and BERT-base at several batch sizes: ApplyTensorRt on ONNX Runtime CUDA at
/// each precision setting (FP32 with TF32 off, TF32, FP16, FP16 with CUDA graphs) beside the raw engine
/// at the same setting (one session, same options, same rewritten model, device-resident IO, back to
/// back on one thread), and ApplyOnnxModel once per model as the reference. Contenders of a batch size
/// alternate pass by pass, each pass lasting at least <c>minPass</c>.
/// </summary>
internal static class GpuBenchmark
{
    private sealed record Model(string Name, string Path, IDataView Data, string[] Inputs, string Output, IDictionary<string, int[]>? ShapeDictionary);

    /// <summary>A precision setting, applied alike to ApplyTensorRt and to the raw engine.</summary>
    internal sealed record Setting(string Name, TensorRtPrecision Precision, bool Tf32, bool Graphs, bool FuseTransformerOps = false)
    {
        public void Apply(TensorRtOptions options)
        {
            options.Precision = Precision;
            options.AllowTf32 = Tf32;
            options.CudaGraphs = Graphs;
            options.FuseTransformerOps = FuseTransformerOps;
        }
    }

    internal static readonly Setting[] Settings =
    [
        new("FP32", TensorRtPrecision.Fp32, Tf32: false, Graphs: false),
        new("TF32", TensorRtPrecision.Fp32, Tf32: true, Graphs: false),
        new("FP16", TensorRtPrecision.Fp16, Tf32: true, Graphs: false),
        new("FP16 + CUDA graphs", TensorRtPrecision.Fp16, Tf32: true, Graphs: true),
        // Only when named: it changes nothing for models without attention.
        new("FP16 + fused transformer ops", TensorRtPrecision.Fp16, Tf32: true, Graphs: false, FuseTransformerOps: true),
    ];

    public static void Run(string modelsFolder, int[] batchSizes, int passes, int rows, string? only, int lanes, int readAhead, double minPassSeconds, string? settings,
        TextWriter report)
    {
        var device = CudaDriver.GetDevice(0);
        var ml = new MLContext(seed: 1);
        // What fit fused goes to the console: it says which model actually ran.
        ml.Log += (_, e) =>
        {
            if (e.Message.Contains("fused", StringComparison.OrdinalIgnoreCase))
                Console.Error.WriteLine($"  log: {e.Message}");
        };
        report.WriteLine($"# GPU: {device.Name} (compute {device.ComputeCapability}, {device.TotalMemory >> 30} GiB), CUDA driver {CudaDriver.DriverVersion}, " +
            $"ONNX Runtime {OrtEnv.Instance().GetVersionString()}, {Environment.ProcessorCount} cores");
        report.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ApplyTensorRt: ONNX Runtime CUDA, {lanes} lanes, {readAhead} batches read ahead; passes: {passes}, each at least {minPassSeconds:0.0} s, contenders alternating."));
        report.WriteLine();
        var chosen = Settings.Where(s => settings is null ? !s.FuseTransformerOps : settings.Split(',').Any(n => s.Name.Equals(n.Trim(), StringComparison.OrdinalIgnoreCase))).ToList();
        // Enough rows that a pass is many batches, so filling the pipeline and draining it weigh little.
        rows = Math.Max(rows, 16 * batchSizes.Max());
        var models = new[]
        {
            new Model("ResNet-50", Path.Combine(modelsFolder, "resnet50.onnx"), ml.Data.Cache(Images(rows, RowSupply.Copy)), ["input"], "logits", null),
            new Model("BERT-base, sequence 128", Path.Combine(modelsFolder, "bert-base.onnx"), ml.Data.Cache(Tokens(ml, rows, 128)), ["input_ids", "attention_mask"],
                "pooler_output", new Dictionary<string, int[]> { ["input_ids"] = [1, 128], ["attention_mask"] = [1, 128] }),
        };
        foreach (var model in models.Where(m => only is null || m.Name.Contains(only, StringComparison.OrdinalIgnoreCase)))
        {
            RunModel(ml, model, rows, batchSizes, passes, lanes, readAhead, TimeSpan.FromSeconds(minPassSeconds), chosen, report);
            if (model.Name.StartsWith("ResNet", StringComparison.Ordinal))
                CompareSources(ml, model, rows, batchSizes.Max(), passes, lanes, readAhead, TimeSpan.FromSeconds(minPassSeconds),
                    chosen.LastOrDefault(s => !s.Graphs) ?? chosen[^1], chosen.FirstOrDefault(s => s.Graphs), report);
        }
    }

    /// <summary>
    /// What the source costs: the same transformer over ML.NET's cache (its getter copies each 602 KB row, on
    /// the cursor's thread), over the cache read by several cursors at once (GetRowCursorSet, each with its
    /// own batch pipeline), and over a source that lends its rows' arrays (<see cref="IRowArrayLender"/>: no copy); with CUDA graphs too
    /// when <paramref name="withGraphs"/> is given, and the raw engine at both settings in the same passes.
    /// </summary>
    private static void CompareSources(MLContext ml, Model model, int rows, int batch, int passes, int lanes, int readAhead, TimeSpan minPass, Setting setting,
        Setting? withGraphs, TextWriter report)
    {
        report.WriteLine($"## {model.Name} at batch {batch}, ApplyTensorRt {setting.Name}: what the source costs");
        report.WriteLine();
        var lending = Images(rows, RowSupply.Lender);
        var settings = withGraphs is null ? [setting] : new[] { setting, withGraphs };
        var transformers = settings.Select(s => Fit(ml, model, batch, lanes, readAhead, s)).ToList();
        var raws = settings.Select(s => new RawEngine(model.Path, s, ml)).ToList();
        try
        {
            var contenders = new List<Throughput.Contender>
            {
                new($"ML.NET cache, 1 cursor, {setting.Name}", transformers[0].Transform(model.Data), model.Output),
                new($"ML.NET cache, 4 cursors (GetRowCursorSet), {setting.Name}", transformers[0].Transform(model.Data), model.Output, Cursors: 4),
            };
            contenders.AddRange(settings.Select((s, i) => new Throughput.Contender($"a source lending its arrays, 1 cursor, {s.Name}", transformers[i].Transform(lending), model.Output)));
            var results = Throughput.Compare(contenders, passes, minPass, extra: raws.Select(r => r.Prepare(batch)).ToList());
            ReportWithStages(contenders, results, report);
            foreach (var (s, i) in settings.Select((s, i) => (s, i)))
                report.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Raw engine {s.Name} in the same passes: {results[contenders.Count + i].RowsPerSecond:N0} rows/s."));
            report.WriteLine();
        }
        finally
        {
            foreach (var t in transformers) t.Dispose();
            foreach (var r in raws) r.Dispose();
        }
    }

    /// <summary>One row per contender: rows/s, then the mean per-batch stages of one more pass timed by <see cref="BatchStageTimes"/>.</summary>
    private static void ReportWithStages(IReadOnlyList<Throughput.Contender> contenders, IReadOnlyList<Throughput.Result> results, TextWriter report)
    {
        report.WriteLine("| contender | rows/s | per batch, ms |");
        report.WriteLine("|---|---:|---|");
        for (var i = 0; i < contenders.Count; i++)
        {
            report.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {contenders[i].Name} | {results[i].RowsPerSecond:N0} | {StagesOfOnePass(contenders[i])} |"));
        }
        report.WriteLine();
        report.Flush();
    }

    /// <summary>The mean time of each stage of a batch (<see cref="BatchStageTimes"/>) over one more pass.</summary>
    private static string? StagesOfOnePass(Throughput.Contender contender)
    {
        using var stages = new BatchStageTimes();
        Throughput.Pass(contender);
        return stages.Describe();
    }

    private static void RunModel(MLContext ml, Model model, int rows, int[] batchSizes, int passes, int lanes, int readAhead, TimeSpan minPass, IReadOnlyList<Setting> settings,
        TextWriter report)
    {
        report.WriteLine($"## {model.Name}, rows/s");
        report.WriteLine();
        report.WriteLine("| batch | " + string.Join(" | ", settings.Select(s => $"ApplyTensorRt {s.Name} | raw {s.Name} | ratio")) + " |");
        report.WriteLine("|---:|" + string.Concat(settings.Select(_ => "---:|---:|---:|")));
        double? onnxModel = null;
        var stageLines = new List<string>();
        var raws = settings.ToDictionary(s => s, s => new RawEngine(model.Path, s, ml));
        try
        {
            foreach (var batch in batchSizes)
            {
                var transformers = settings.Select(s => Fit(ml, model, batch, lanes, readAhead, s)).ToList();
                try
                {
                    var data = ml.Data.TakeRows(model.Data, RowsPerPass(batch, rows));
                    var contenders = transformers.Select((t, i) => new Throughput.Contender($"ApplyTensorRt {settings[i].Name}", t.Transform(data), model.Output)).ToList();
                    var rawRuns = settings.Select(s => raws[s].Prepare(batch)).ToList();
                    var onnx = onnxModel is null ? OnnxModel(ml, model) : null;
                    if (onnx is not null)
                        contenders.Add(new("ApplyOnnxModel(gpuDeviceId: 0)", ml.Data.TakeRows(onnx.Transform(model.Data), 256), model.Output));
                    var results = Throughput.Compare(contenders, passes, minPass, extra: rawRuns);
                    (onnx as IDisposable)?.Dispose();
                    onnxModel ??= results.FirstOrDefault(r => r.Name.StartsWith("ApplyOnnxModel", StringComparison.Ordinal))?.RowsPerSecond;
                    var cells = settings.Select((s, i) =>
                    {
                        var ours = results[i].RowsPerSecond;
                        var raw = results[contenders.Count + i].RowsPerSecond;
                        return string.Create(CultureInfo.InvariantCulture, $"{ours:N0} | {raw:N0} | {ours / raw:P0}");
                    });
                    report.WriteLine($"| {batch} | {string.Join(" | ", cells)} |");
                    report.Flush();
                    stageLines.AddRange(settings.Select((s, i) => $"| {batch} | {s.Name} | {StagesOfOnePass(contenders[i])} |"));
                }
                finally
                {
                    foreach (var t in transformers) t.Dispose();
                }
            }
        }
        finally
        {
            foreach (var raw in raws.Values) raw.Dispose();
        }
        report.WriteLine();
        report.WriteLine("ApplyTensorRt's mean time per batch in each stage (one more pass, timed by BatchStageTimes; upload, compute and download on the device's clock):");
        report.WriteLine();
        report.WriteLine("| batch | setting | ms |");
        report.WriteLine("|---:|---|---|");
        foreach (var line in stageLines)
            report.WriteLine(line);
        report.WriteLine();
        if (onnxModel is { } reference)
            report.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ApplyOnnxModel(gpuDeviceId: 0), one row per call: {reference:N0} rows/s."));
        report.WriteLine();
    }

    /// <summary>Rows read per pass at <paramref name="batch"/>: 16 batches, at least 256 rows, at most all of them.</summary>
    private static long RowsPerPass(int batch, int rows) => Math.Clamp(16L * batch, 256, rows);

    private static TensorRtTransformer Fit(MLContext ml, Model model, int batch, int lanes, int readAhead, Setting setting)
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
        setting.Apply(options);
        return ml.Transforms.ApplyTensorRt(options).Fit(model.Data);
    }

    private static ITransformer OnnxModel(MLContext ml, Model model) =>
        ml.Transforms.ApplyOnnxModel([model.Output], model.Inputs, model.Path, model.ShapeDictionary, gpuDeviceId: 0, fallbackToCpu: false, recursionLimit: 100)
            .Fit(model.Data);

    /// <summary>Random pixels in [-1, 1): 64 distinct images, repeated to <paramref name="rows"/> rows (the values do not change the speed).</summary>
    private static IDataView Images(int rows, RowSupply supply)
    {
        var random = new Random(7);
        var builder = new DataViewSchema.Builder();
        builder.AddColumn("input", new VectorDataViewType(NumberDataViewType.Single, 3, 224, 224));
        var distinct = Enumerable.Range(0, 64).Select(_ => Enumerable.Range(0, 3 * 224 * 224).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()).ToArray();
        return new InMemoryVectors(builder.ToSchema(), Enumerable.Range(0, rows).Select(i => distinct[i % distinct.Length]).ToList(), supply);
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
