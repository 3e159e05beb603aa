using System.Diagnostics;
using BatchScoring.InputSources;
using BatchScoring.OutputWriters;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using Spectre.Console;
using TrtMLNet;

namespace BatchScoring;

/// <summary>One scoring run: read the model's signature, prepare the input, fit ApplyTensorRt, stream the scored rows to the output, report.</summary>
public static class ScoringJob
{
    public const int ExitOk = 0;
    public const int ExitError = 1;
    public const int ExitParityMismatch = 2;
    public const int ExitCancelled = 130;

    public static async Task<int> RunAsync(JobOptions options, CancellationToken cancel)
    {
        Validate(options);
        var model = ReadSignature(options.Model);

        var mlContext = new MLContext(seed: 0);
        // TrtMLNet reports through the MLContext's log: which backends Auto skipped and why, fixed batch sizes.
        var warnings = new List<string>();
        mlContext.Log += (_, e) =>
        {
            if (e.Source != "TrtMLNet")
                return;
            if (e.Kind == ChannelMessageKind.Warning)
                lock (warnings) warnings.Add(e.RawMessage);
            else if (options.Verbose && e.Kind == ChannelMessageKind.Info)
                ConsoleReports.Note(e.RawMessage);
        };

        var input = InputSource.Open(mlContext, options, model);
        ConsoleReports.Plan(options, model, input);
        var data = options.Limit is { } limit ? mlContext.Data.TakeRows(input.Data, limit) : input.Data;
        var expectedRows = options.Limit is { } l && input.RowCount is { } n ? Math.Min(l, n) : input.RowCount;

        var fixedBatch = model.Inputs.Select(i => i.FixedBatch).FirstOrDefault(b => b is not null);
        var trtOptions = new TensorRtOptions
        {
            ModelFile = options.Model,
            InputColumns = model.Inputs.Select(i => i.Name).ToArray(),
            OutputColumns = options.Outputs is { Length: > 0 } outputs ? outputs : null,
            Backend = options.Backend,
            DeviceId = options.Device,
            // A model that fixes its batch runs at that size anyway (unless opened); asking for it spares a warning.
            BatchSize = options.BatchSize ?? (options.OpenBatch ? null : fixedBatch) ?? TensorRtOptions.DefaultBatchSize,
            OpenBatchDimension = options.OpenBatch,
            Lanes = options.Concurrency,
            FallbackToCpu = options.CpuFallback,
        };

        var setup = Stopwatch.StartNew();
        // Building a TensorRT engine can take minutes the first time (later runs load it from the cache).
        using var transformer = AnsiConsole.Status().Start("Preparing the engine...", _ => Fit(mlContext, trtOptions, data));
        setup.Stop();
        lock (warnings) ConsoleReports.Backend(transformer, warnings, setup.Elapsed.TotalSeconds, options.Verbose);
        cancel.ThrowIfCancellationRequested();

        var scored = transformer.Transform(data);
        var columns = input.PassThroughColumns.Concat(transformer.OutputColumnNames).ToList();
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(options.Output))!);

        var clock = Stopwatch.StartNew();
        var rows = await ConsoleReports.WithProgressAsync(expectedRows,
            progress => OutputWriter.WriteAsync(scored, columns, options.Output, progress, cancel));
        clock.Stop();

        ConsoleReports.Summary(rows, clock.Elapsed.TotalSeconds, transformer, options.Concurrency, options.Output);
        if (options.MemoryReport)
            ConsoleReports.Memory(transformer.GetMemoryReport());
        if (options.CheckParity is { } parityRows)
        {
            cancel.ThrowIfCancellationRequested();
            var report = AnsiConsole.Status().Start($"Checking parity on {parityRows} rows...", _ => transformer.CheckParity(data, parityRows));
            ConsoleReports.Parity(report);
            if (!report.WithinTolerance)
            {
                ConsoleReports.Error("Parity check failed: some outputs differ from the reference beyond the tolerance.");
                return ExitParityMismatch;
            }
        }
        return ExitOk;
    }

    private static TensorRtTransformer Fit(MLContext mlContext, TensorRtOptions options, IDataView data)
    {
        try
        {
            return mlContext.Transforms.ApplyTensorRt(options).Fit(data);
        }
        catch (InvalidOperationException e) when (options.FallbackToCpu != true && options.Backend != TensorRtBackend.OnnxRuntimeCpu)
        {
            // TrtMLNet names its own option; say what it is on this command line.
            throw new InvalidOperationException($"{e.Message} (On this command line: --cpu-fallback, or --backend OnnxRuntimeCpu.)", e);
        }
    }

    /// <summary>Checks what can be checked before anything is loaded, so mistakes fail fast with one line.</summary>
    private static void Validate(JobOptions options)
    {
        if (!File.Exists(options.Model))
            throw new UsageException(Directory.Exists(options.Model)
                ? $"--model '{options.Model}' is a folder; give the .onnx file."
                : $"The model '{options.Model}' does not exist.");
        if (!File.Exists(options.Input) && !Directory.Exists(options.Input))
            throw new UsageException($"The input '{options.Input}' does not exist.");
        OutputWriter.CheckExtension(options.Output);
        if (Directory.Exists(options.Output))
            throw new UsageException($"--output '{options.Output}' is a folder; give a file name ending in .parquet or .csv.");
        if (Path.GetFullPath(options.Output) == Path.GetFullPath(options.Input))
            throw new UsageException("--output names the input file; pick another name.");
    }

    private static ModelSignature ReadSignature(string path)
    {
        try
        {
            return ModelSignature.Read(path);
        }
        catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException e)
        {
            throw new UsageException($"The model '{path}' cannot be read as ONNX: {e.Message}");
        }
    }
}
