using System.Diagnostics;
using BatchScoring.InputSources;
using BatchScoring.Output;
using BatchScoring.Running;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using Spectre.Console;
using TrtMLNet;

namespace BatchScoring;

/// <summary>
/// One scoring run: settle the output (lock, fresh or resumed) before anything is loaded, read the
/// model's signature, prepare the input (this shard's part, from the resume point), fit ApplyTensorRt,
/// stream the scored rows into committed parts, put the output in place, report. Throws for errors;
/// <see cref="JobRunner"/> turns them into messages and exit codes.
/// </summary>
public sealed class ScoringJob(JobOptions options, SignalHandling? signals = null)
{
    private readonly CancellationToken _cancel = signals?.Token ?? CancellationToken.None;

    /// <summary>The output session while the job runs: the runner cleans up through it after a stop or failure.</summary>
    public OutputSession? Session { get; private set; }

    /// <summary>The writer while rows are being written: its manifest is what is committed.</summary>
    public PartWriter? Writer { get; private set; }

    public async Task<int> RunAsync()
    {
        Validate(options);
        Session = OutputSession.Open(options, JobFingerprint.Of(options));
        foreach (var note in Session.Notes)
            ConsoleReports.Warning(note);
        if (Session.Manifest is null)
        {
            ConsoleReports.Note($"'{Session.Target.FinalPath}' is complete and no run of it is stopped: nothing to score. (--overwrite scores it again.)");
            return ExitCodes.Ok;
        }
        var committed = Session.Manifest.Committed;
        if (Session.IsResuming)
            ConsoleReports.Note($"Resuming after {committed.Rows:N0} committed rows ({committed.Parts} part(s)).");

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

        var badRows = new BadRowSink(options.BadRows);
        var resume = Session.IsResuming ? new ResumePoint(committed.ResumeAt!.Value, committed.LastRow!.Value + 1) : null;
        var input = InputSource.Open(mlContext, options, model, new InputStart(options.Shard, resume, badRows));
        ConsoleReports.Plan(options, model, input);
        foreach (var warning in input.Warnings)
            ConsoleReports.Warning(warning);
        var remaining = options.Limit is { } limit ? Math.Max(0, limit - committed.Rows) : (long?)null;
        var data = remaining is { } r ? mlContext.Data.TakeRows(input.Data, r) : input.Data;
        var expectedRows = remaining is { } l && input.RowCount is { } n ? Math.Min(l, n) : remaining ?? input.RowCount;

        var fixedBatch = model.Inputs.Select(i => i.FixedBatch).FirstOrDefault(b => b is not null);
        var (batch, batchNote) = BatchSizing.Choose(options.BatchSize, fixedBatch, options.OpenBatch, expectedRows, TensorRtOptions.DefaultBatchSize);
        if (batchNote is not null)
            ConsoleReports.Note(batchNote);
        BatchSizing.CheckFits(batch, model, options.Outputs, options.ReadAheadBatches, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
        var trtOptions = new TensorRtOptions
        {
            ModelFile = options.Model,
            InputColumns = model.Inputs.Select(i => i.Name).ToArray(),
            OutputColumns = options.Outputs is { Length: > 0 } outputs ? outputs : null,
            Backend = options.Backend,
            DeviceId = options.Device,
            BatchSize = batch,
            OpenBatchDimension = options.OpenBatch,
            Lanes = options.Concurrency,
            ReadAheadBatches = options.ReadAheadBatches,
            FallbackToCpu = options.CpuFallback,
            Precision = options.Precision,
            AllowTf32 = options.Tf32,
            ImageInputs = input.ImageInputs,
        };

        var setup = Stopwatch.StartNew();
        // Building a TensorRT engine can take minutes the first time (later runs load it from the cache).
        using var transformer = AnsiConsole.Status().Start("Preparing the engine...", _ => Fit(mlContext, trtOptions, data, batch, model));
        setup.Stop();
        lock (warnings) ConsoleReports.Backend(transformer, warnings, setup.Elapsed.TotalSeconds, options.Verbose);
        _cancel.ThrowIfCancellationRequested();

        var scored = transformer.Transform(data);
        var columns = input.PassThroughColumns.Concat(transformer.OutputColumnNames).ToList();
        var skipped = input.ImageRows is { } imageRows ? new SkippedImageRows(transformer, imageRows) : null;
        Writer = new PartWriter(Session.Target, Session.Manifest, options.CommitEvery, badRows);
        using var stages = new BatchStageTimes();
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var jitBefore = System.Runtime.JitInfo.GetCompilationTime();
        var clock = Stopwatch.StartNew();
        var final = await ConsoleReports.WithProgressAsync(expectedRows, progress => Writer.WriteAsync(scored, columns, progress, _cancel, skipped), c => c.Rows - committed.Rows);
        clock.Stop();
        var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
        var dataset = Session.Complete(Writer.Manifest);

        var times = new ScoringTimes(clock.Elapsed.TotalSeconds, cpuSeconds, Writer.Timeline, (System.Runtime.JitInfo.GetCompilationTime() - jitBefore).TotalSeconds);
        ConsoleReports.Summary(final, committed.Rows, times, stages, transformer, options.Concurrency, Session.Target, dataset);
        if (options.MemoryReport)
            ConsoleReports.Memory(transformer.GetMemoryReport());
        if (options.CheckParity is { } parityRows)
        {
            _cancel.ThrowIfCancellationRequested();
            var report = AnsiConsole.Status().Start($"Checking parity on {parityRows} rows...", _ => transformer.CheckParity(data, parityRows));
            ConsoleReports.Parity(report);
            if (!report.WithinTolerance)
            {
                ConsoleReports.Error("Parity check failed: some outputs differ from the reference beyond the tolerance.");
                return ExitCodes.ParityMismatch;
            }
        }
        return ExitCodes.Ok;
    }

    private static TensorRtTransformer Fit(MLContext mlContext, TensorRtOptions options, IDataView data, int batch, ModelSignature model)
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
        catch (Exception e) when (Innermost(e) is OutOfMemoryException or OverflowException)
        {
            var rowBytes = BatchSizing.RowBytes(model, options.OutputColumns);
            throw new UsageException(
                $"A batch of {batch:N0} rows did not fit in memory{(rowBytes is { } b ? $": it asks for at least {(decimal)batch * b:N0} bytes ({batch:N0} rows x {b:N0} bytes of inputs and outputs)" : "")}. Pick a smaller --batch-size.");
        }
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null)
            e = e.InnerException;
        return e;
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
        if (options.Resume && options.Overwrite)
            throw new UsageException("--resume continues a stopped run and --overwrite starts over: pass one of them.");
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
