using System.Globalization;
using Spectre.Console;
using TrtMLNet;

namespace BatchScoring;

/// <summary>What the job prints: the plan, the backend, the summary, the memory and parity reports, errors.</summary>
public static class ConsoleReports
{
    public static void Plan(JobOptions options, ModelSignature model, InputSources.PreparedInput input)
    {
        AnsiConsole.MarkupLine($"[bold]Model[/]  {Markup.Escape(options.Model)}");
        foreach (var output in model.Outputs)
            AnsiConsole.MarkupLine($"         output {Markup.Escape(output.ToString())}");
        AnsiConsole.MarkupLine($"[bold]Input[/]  {Markup.Escape(input.Description)}{(input.RowCount is { } n ? $", {n:N0} rows" : "")}");
        foreach (var line in input.Mapping)
            AnsiConsole.MarkupLine($"         {Markup.Escape(line)}");
        if (input.PassThroughColumns.Count > 0)
            AnsiConsole.MarkupLine($"         carried to the output: {Markup.Escape(string.Join(", ", input.PassThroughColumns))}");
    }

    /// <summary>The backend in use and, when Auto skipped the GPU backends, TrtMLNet's reasons, one per line.</summary>
    public static void Backend(TensorRtTransformer transformer, IEnumerable<string> warnings, double setupSeconds, bool verbose)
    {
        AnsiConsole.MarkupLine($"[bold]Backend[/] [green]{Markup.Escape(transformer.BackendDescription)}[/], batches of {transformer.BatchSize} (ready in {setupSeconds:0.0} s)");
        // Other warnings (a fixed batch size, say) as they came; the skipped backends one a line, from the list.
        foreach (var warning in warnings.Where(w => !w.Contains("Skipped: [", StringComparison.Ordinal)))
            AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(warning)}[/]");
        if (transformer.SkippedBackends.Count > 0)
            AnsiConsole.MarkupLine("[yellow]Skipped:[/]");
        var shortened = false;
        foreach (var skipped in transformer.SkippedBackends)
        {
            // The first sentence of a reason says what is missing; the rest (how to install) waits for --verbose.
            var reason = verbose ? skipped.Reason : FirstSentence(skipped.Reason);
            shortened |= reason.Length < skipped.Reason.Length;
            AnsiConsole.MarkupLine($"[yellow]  {skipped.Backend}: {Markup.Escape(reason)}[/]");
        }
        if (shortened)
            Note("  (--verbose gives the full reasons, with what to install)");
    }

    /// <summary>Text up to the first full stop that ends a sentence outside parentheses.</summary>
    private static string FirstSentence(string text)
    {
        var depth = 0;
        for (var i = 0; i < text.Length - 1; i++)
        {
            if (text[i] == '(') depth++;
            else if (text[i] == ')') depth = Math.Max(0, depth - 1);
            else if (text[i] == '.' && depth == 0 && text[i + 1] == ' ') return text[..(i + 1)];
        }
        return text;
    }

    /// <summary>
    /// Runs <paramref name="work"/> (which reports rows done) under a progress bar, or, where the output is
    /// not a terminal (a log file, CI), with a line every ten seconds instead of a bar that cannot redraw.
    /// </summary>
    public static async Task<T> WithProgressAsync<T>(long? expectedRows, Func<Action<long>, Task<T>> work, Func<T, long> rowsOf)
    {
        string Done(long rows) => $"{rows:N0}{(expectedRows is { } total ? $" of {total:N0}" : "")} rows";
        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var next = TimeSpan.FromSeconds(10);
            return await work(rows =>
            {
                if (clock.Elapsed < next)
                    return;
                next = clock.Elapsed + TimeSpan.FromSeconds(10);
                Note($"Scoring: {Done(rows)} ({rows / clock.Elapsed.TotalSeconds:N1} rows/s)");
            });
        }
        return await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask("Scoring", maxValue: expectedRows ?? 1);
                task.IsIndeterminate = expectedRows is null;
                var result = await work(rows =>
                {
                    task.Description = $"Scoring: {Done(rows)}";
                    if (expectedRows is not null)
                        task.Value = Math.Min(rows, task.MaxValue);
                });
                // The row count may have been an estimate (CSV line count); end the bar at what was written.
                var written = rowsOf(result);
                task.Description = $"Scored: {written:N0} rows";
                task.IsIndeterminate = false;
                task.MaxValue = Math.Max(1, written);
                task.Value = task.MaxValue;
                task.StopTask();
                return result;
            });
    }

    /// <param name="times">How long the rows took to score and write, and the CPU time meanwhile.</param>
    /// <param name="stageTimes">The stages of the batches (<see cref="BatchStageTimes"/>): their means and the first batch's, left out when none was timed.</param>
    public static void Summary(Output.CommittedParts final, long resumedAfter, ScoringTimes times, BatchStageTimes stageTimes, TensorRtTransformer transformer, int lanes,
        Output.OutputTarget target, Output.DatasetManifest? dataset)
    {
        var (seconds, cpuSeconds) = (times.Seconds, times.CpuSeconds);
        var (stages, firstStages) = (stageTimes.Describe(), stageTimes.DescribeFirst());
        var table = new Table().Title("[bold]Summary[/]").AddColumn("").AddColumn("");
        table.HideHeaders();
        var scoredNow = final.Rows - resumedAfter;
        table.AddRow("Rows", final.Rows.ToString("N0", CultureInfo.InvariantCulture) + (resumedAfter > 0 ? $" ({resumedAfter:N0} from the stopped run, {scoredNow:N0} now)" : ""));
        table.AddRow("Rejected rows", final.Rejected == 0 ? "0" : $"[yellow]{final.Rejected:N0}[/] (in {Markup.Escape(target.RejectsPath)})");
        table.AddRow("Missing float cells", final.MissingCells == 0 ? "0" : $"[yellow]{final.MissingCells:N0}[/] (empty, null or NaN; fed as NaN)");
        table.AddRow("Seconds", seconds.ToString("0.00", CultureInfo.InvariantCulture) +
            (times.FirstRowSeconds is { } first ? $" ({first.ToString("0.00", CultureInfo.InvariantCulture)} to the first scored row)" : ""));
        table.AddRow("Rows/s", seconds > 0 ? (scoredNow / seconds).ToString("N1", CultureInfo.InvariantCulture) : "-");
        var cores = seconds > 0 ? cpuSeconds / seconds : 0;
        table.AddRow("CPU cores busy", $"{cores.ToString("0.0", CultureInfo.InvariantCulture)} of {Environment.ProcessorCount}");
        table.AddRow("Seconds in", Markup.Escape(times.Describe()));
        if (stages is not null)
            table.AddRow("Per batch, ms", Markup.Escape(stages) + $" (the first: {Markup.Escape(firstStages ?? "")})");
        table.AddRow("Backend", Markup.Escape(transformer.BackendDescription));
        table.AddRow("Batch size", transformer.BatchSize.ToString(CultureInfo.InvariantCulture));
        table.AddRow("Lanes", lanes.ToString(CultureInfo.InvariantCulture));
        table.AddRow("Parts committed", final.Parts.ToString(CultureInfo.InvariantCulture));
        table.AddRow("Output", Markup.Escape(target.FinalPath));
        if (dataset is not null)
            table.AddRow("Dataset", $"{Markup.Escape(target.DatasetFolder!)}: {dataset.Parts.Count} of {dataset.Shards} part(s){(dataset.Complete ? ", complete" : "")}");
        AnsiConsole.Write(table);
        // One plain line as well, for logs and scripts that grep.
        var datasetState = dataset is null ? "" : $" dataset_parts={dataset.Parts.Count}/{dataset.Shards} dataset_complete={(dataset.Complete ? "true" : "false")}";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"rows={final.Rows} rejected={final.Rejected} missing_cells={final.MissingCells} parts={final.Parts}{datasetState} rows_per_s={(seconds > 0 ? scoredNow / seconds : 0):0.0} first_row_s={times.FirstRowSeconds ?? 0:0.00} pace_rows_per_s={times.PaceRowsPerSecond(scoredNow) ?? 0:0.0} cores_busy={cores:0.0} output={target.FinalPath}"));
        Console.WriteLine($"seconds: {times.Describe()}");
        if (stages is not null)
        {
            Console.WriteLine($"batch_ms: {stages}");
            Console.WriteLine($"first_batch_ms: {firstStages}");
        }
    }

    public static void Memory(MemoryReport report)
    {
        var table = new Table().Title($"[bold]Memory on {Markup.Escape(report.Device)}[/]").AddColumn("What").AddColumn(new TableColumn("Bytes").RightAligned()).AddColumn("Notes");
        foreach (var engine in report.Engines)
        {
            table.AddRow($"[bold]Engine[/] {Markup.Escape(engine.Model)}", "", Markup.Escape(engine.Backend));
            table.AddRow("  weights", Bytes(engine.WeightsBytes),
                $"stated {Bytes(engine.WeightsStatedBytes)}, measured {Bytes(engine.WeightsMeasuredBytes)}");
            foreach (var context in engine.Contexts)
            {
                var scratch = context.OwnScratchBytes is { } own ? $"owns {Bytes(own)} of scratch" : engine.SharesScratch ? "scratch from the shared slabs" : "";
                table.AddRow($"  context {context.Index} (profile {context.Profile}) persistent", Bytes(context.PersistentBytes),
                    $"scratch need {Bytes(context.ScratchNeedBytes)}{(scratch.Length > 0 ? "; " + scratch : "")}");
            }
            if (engine.DecoderDeviceBytes + engine.DecoderPinnedHostBytes > 0)
                table.AddRow("  image decoders", Bytes(engine.DecoderDeviceBytes), $"and {Bytes(engine.DecoderPinnedHostBytes)} pinned on the host; nvJPEG's states not counted");
        }
        table.AddRow("Scratch slabs", Bytes(report.ScratchSlabs * report.ScratchSlabBytes), $"{report.ScratchSlabs} x {Bytes(report.ScratchSlabBytes)}");
        table.AddRow("Lanes (IO buffers)", Bytes(report.LaneIoBytes.Sum()), $"{report.LaneIoBytes.Count} lane(s): {string.Join(", ", report.LaneIoBytes.Select(b => Bytes(b)))}");
        table.AddRow("Pinned host staging", Bytes(report.PinnedHostBytes), "");
        var bound = report.TotalsComplete ? "" : "at least: some terms not known";
        table.AddRow("[bold]Total, shared scratch[/]", Bytes(report.SharedTotalBytes), bound);
        table.AddRow("[bold]Total, naive[/]", Bytes(report.NaiveTotalBytes), bound.Length > 0 ? bound : "every context owning its scratch");
        table.AddRow("Measured on the device", Bytes(report.MeasuredDeviceBytes),
            report.DeviceTotalBytes is { } total ? $"of {Bytes(total)}" : "");
        AnsiConsole.Write(table);
    }

    public static void Parity(ParityReport report)
    {
        var title = $"[bold]Parity[/] of {Markup.Escape(report.Backend)} ({Markup.Escape(report.Precision)}) against {Markup.Escape(report.Reference)} " +
            $"on {report.Rows} rows ({Markup.Escape(report.Tolerance.ToString())})";
        var table = new Table().Title(title).AddColumn("Output").AddColumn("Result")
            .AddColumn(new TableColumn("Relative L2 error").RightAligned()).AddColumn(new TableColumn("Lowest row cosine").RightAligned())
            .AddColumn(new TableColumn("Max abs error").RightAligned()).AddColumn(new TableColumn("Outside tolerance").RightAligned());
        if (!report.WithinTolerance)
            table.AddColumn("Worst rows");
        foreach (var o in report.Outputs)
        {
            var worst = string.Join("\n", o.WorstRows.Take(3).Select(r =>
                string.Create(CultureInfo.InvariantCulture, $"row {r.Row} [{r.Slot}]: expected {r.Expected:g7}, got {r.Actual:g7}")));
            string[] cells =
            [
                Markup.Escape(o.Output),
                o.WithinTolerance ? "[green]OK[/]" : "[red]MISMATCH[/]",
                o.RelativeL2Error.ToString("g3", CultureInfo.InvariantCulture),
                o.MinCosineSimilarity.ToString("0.######", CultureInfo.InvariantCulture),
                o.MaxAbsoluteError.ToString("g4", CultureInfo.InvariantCulture),
                $"{o.Mismatches:N0} of {o.Values:N0}",
            ];
            table.AddRow(report.WithinTolerance ? cells : [.. cells, Markup.Escape(worst)]);
        }
        AnsiConsole.Write(table);
    }

    /// <summary>One line on stderr: what went wrong and what to do.</summary>
    public static void Error(string message) => Console.Error.WriteLine($"error: {OneLine(message)}");

    /// <summary>One line on stderr: something the run goes on with but the user should know.</summary>
    public static void Warning(string message) => Console.Error.WriteLine($"warning: {OneLine(message)}");

    private static string OneLine(string message) => message.ReplaceLineEndings(" ");

    public static void Note(string message) => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(message)}[/]");

    private static string Bytes(long? bytes)
    {
        if (bytes is not { } value)
            return "not known";
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double scaled = value;
        var unit = 0;
        while (Math.Abs(scaled) >= 1024 && unit < units.Length - 1)
        {
            scaled /= 1024;
            unit++;
        }
        return unit == 0 ? $"{value} B" : string.Create(CultureInfo.InvariantCulture, $"{scaled:0.##} {units[unit]}");
    }
}
