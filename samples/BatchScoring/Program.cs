using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using BatchScoring;
using Spectre.Console;
using TrtMLNet;

var input = new Option<string>("--input", "-i") { Description = "A CSV (.csv, .tsv) or Parquet (.parquet) file, or a folder of images (jpg, png, bmp; searched recursively)." };
var model = new Option<string>("--model", "-m") { Description = "The ONNX model." };
var output = new Option<string>("--output", "-o")
{
    Description = "The file to write: .parquet (vector outputs as lists) or .csv (vector outputs as <name>_<i> columns).",
    DefaultValueFactory = _ => Path.Combine("output", "scores.parquet"),
};
var outputs = new Option<string[]>("--outputs") { Description = "Model outputs to write (default: all).", AllowMultipleArgumentsPerToken = true };
var backend = new Option<TensorRtBackend>("--backend", "-b") { Description = "Which engine runs the model.", DefaultValueFactory = _ => TensorRtBackend.Auto };
var device = new Option<int?>("--device", "-d") { Description = "The GPU to run on (default: 0)." };
var batchSize = new Option<int?>("--batch-size") { Description = $"Rows per batch (default: the model's own when it fixes one, else {TensorRtOptions.DefaultBatchSize})." };
var openBatch = new Option<bool>("--open-batch") { Description = "For a model exported with its batch fixed at 1: open the batch dimension so rows run in batches of --batch-size (check the outputs with --check-parity)." };
var concurrency = new Option<int>("--concurrency") { Description = "Batches in flight on the device at once (lanes).", DefaultValueFactory = _ => 2 };
var cpuFallback = new Option<bool?>("--cpu-fallback")
{
    Description = "Whether to run on the CPU when the GPU backend cannot run: true (any --backend), false (never; fail and say why). Default: Auto may fall back, an explicit GPU backend may not.",
    HelpName = "true|false",
    Arity = ArgumentArity.ZeroOrOne,
};
var checkParity = new Option<int?>("--check-parity") { Description = "After scoring, compare the first N rows with ONNX Runtime on the CPU; exit code 2 if they differ beyond the tolerance.", HelpName = "N" };
var memoryReport = new Option<bool>("--memory-report") { Description = "Print where the device memory goes (engines, contexts, scratch slabs, lanes, staging)." };
var limit = new Option<long?>("--limit") { Description = "Score only the first N rows.", HelpName = "N" };
var idColumn = new Option<string>("--id-column") { Description = "The column that identifies a row, carried to the output (default: a column named id, Id or ID)." };
var separator = new Option<string>("--separator") { Description = "CSV field separator: one character, or 'tab' (default: tab for .tsv, else comma)." };
var imageSize = new Option<int?>("--image-size") { Description = "Width and height images are resized to (default: the model's, else 224)." };
var pixelOffset = new Option<float>("--pixel-offset") { Description = "Added to each pixel value (0..255) before scaling, e.g. -127.5." };
var pixelScale = new Option<float>("--pixel-scale") { Description = "Pixel values are multiplied by this after the offset, e.g. 0.00392 for 0..1.", DefaultValueFactory = _ => 1f };
var bgr = new Option<bool>("--bgr") { Description = "Extract planes in blue, green, red order (Caffe- and CNTK-style models)." };
var example = new Option<bool>("--example") { Description = "Run the built-in example: synthetic images through ResNet-18 (also what no arguments do)." };
var verbose = new Option<bool>("--verbose", "-v") { Description = "Print TrtMLNet's messages and, on errors, the stack trace." };

AtLeast(device, 0);
AtLeast(batchSize, 1);
AtLeast(concurrency, 1);
AtLeast(checkParity, 1);
AtLeast(limit, 1);
AtLeast(imageSize, 8);

var root = new RootCommand(
    "Scores a CSV file, a Parquet file or a folder of images with an ONNX model through TrtMLNet (TensorRT in ML.NET) " +
    "and writes the model's outputs to Parquet or CSV. With no arguments it runs a built-in example. " +
    "Exit codes: 0 done, 1 error, 2 parity check failed, 130 cancelled.")
{
    input, model, output, outputs, backend, device, batchSize, openBatch, concurrency, cpuFallback, checkParity, memoryReport,
    limit, idColumn, separator, imageSize, pixelOffset, pixelScale, bgr, example, verbose,
};

root.SetAction(async (parse, _) =>
{
    var isVerbose = parse.GetValue(verbose);
    using var cancel = new CancellationTokenSource();
    // The first Ctrl+C stops after the current row and cleans up (the partial output is removed, the
    // engine's device memory given back); a second one ends the process at once.
    ConsoleCancelEventHandler onCancel = (_, e) =>
    {
        if (cancel.IsCancellationRequested)
            return;
        e.Cancel = true;
        cancel.Cancel();
    };
    Console.CancelKeyPress += onCancel;
    try
    {
        var options = Options(parse);
        return await ScoringJob.RunAsync(options, cancel.Token);
    }
    catch (OperationCanceledException) when (cancel.IsCancellationRequested)
    {
        ConsoleReports.Error("Cancelled. (The output file appears only once every row is written; a partial one is removed.)");
        return ScoringJob.ExitCancelled;
    }
    catch (UsageException e)
    {
        ConsoleReports.Error(e.Message);
        return ScoringJob.ExitError;
    }
    catch (Exception e)
    {
        if (isVerbose)
            AnsiConsole.WriteException(e);
        else
            ConsoleReports.Error(Describe(e));
        return ScoringJob.ExitError;
    }
    finally
    {
        Console.CancelKeyPress -= onCancel;
    }
});

// With no arguments at all, run the example; Ctrl+C is handled above rather than by System.CommandLine.
var arguments = args.Length == 0 ? ["--example"] : args;
var parsed = root.Parse(arguments);
if (parsed.Action is ParseErrorAction parseError)
    parseError.ShowHelp = false;
var exitCode = await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
if (parsed.Errors.Count > 0)
    Console.Error.WriteLine("Run with --help for the options.");
return exitCode;

JobOptions Options(ParseResult parse)
{
    var outputPath = parse.GetValue(output)!;
    var isExample = parse.GetValue(example);
    string inputPath, modelPath;
    var pixelOffsetValue = parse.GetValue(pixelOffset);
    var bgrValue = parse.GetValue(bgr);
    if (isExample)
    {
        if (parse.GetValue(input) is not null)
            throw new UsageException("--example makes its own images; leave out --input (or leave out --example to score your own data).");
        inputPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(outputPath))!, "example-images");
        modelPath = parse.GetValue(model) ?? (File.Exists(ExampleImages.ModelPath)
            ? ExampleImages.ModelPath
            : throw new UsageException($"This build leaves out the example's model ({ExampleImages.ModelPath} is missing: it was built with -p:IncludeExampleModel=false); pass --model with an image model taking [N,3,H,W]."));
        AnsiConsole.MarkupLine("[bold]Built-in example[/]: synthetic images scored with the ResNet-18 featurizer of Microsoft.ML.DnnImageFeaturizer.ResNet18. Run with --help for your own data.");
        var count = ExampleImages.Write(inputPath);
        ConsoleReports.Note($"Drew {count} images into {inputPath}");
        // The example's preprocessing, unless asked otherwise (a result is implicit when only the default filled it).
        if (parse.GetResult(pixelOffset) is not { Implicit: false })
            pixelOffsetValue = ExampleImages.PixelOffset;
        if (parse.GetResult(bgr) is not { Implicit: false })
            bgrValue = true;
    }
    else
    {
        inputPath = parse.GetValue(input) ?? throw new UsageException("--input is missing: give a CSV or Parquet file or a folder of images (or --example, or no arguments at all, for the built-in example).");
        modelPath = parse.GetValue(model) ?? throw new UsageException("--model is missing: give an ONNX model.");
    }

    return new JobOptions
    {
        Input = inputPath,
        Model = modelPath,
        Output = outputPath,
        Outputs = parse.GetValue(outputs),
        Backend = parse.GetValue(backend),
        Device = parse.GetValue(device),
        BatchSize = parse.GetValue(batchSize),
        OpenBatch = parse.GetValue(openBatch),
        Concurrency = parse.GetValue(concurrency),
        CpuFallback = CpuFallback(parse),
        CheckParity = parse.GetValue(checkParity),
        MemoryReport = parse.GetValue(memoryReport),
        Limit = parse.GetValue(limit),
        IdColumn = parse.GetValue(idColumn),
        Separator = Separator(parse.GetValue(separator)),
        ImageSize = parse.GetValue(imageSize),
        PixelOffset = pixelOffsetValue,
        PixelScale = parse.GetValue(pixelScale),
        Bgr = bgrValue,
        Verbose = parse.GetValue(verbose),
    };
}

// A bare --cpu-fallback means true; leaving it out leaves the choice to TrtMLNet.
bool? CpuFallback(ParseResult parse) => parse.GetResult(cpuFallback) switch
{
    null or { Implicit: true } => null,
    { Tokens.Count: 0 } => true,
    _ => parse.GetValue(cpuFallback),
};

static char? Separator(string? value) => value switch
{
    null => null,
    "tab" or "\\t" or "\t" => '\t',
    { Length: 1 } => value[0],
    _ => throw new UsageException($"--separator takes one character or 'tab', not '{value}'."),
};

static void AtLeast<T>(Option<T> option, long minimum) => option.Validators.Add(result =>
{
    if (result.GetValueOrDefault<T>() is { } value && Convert.ToInt64(value) < minimum)
        result.AddError($"{option.Name} must be at least {minimum}; it is {value}.");
});

// Library and ML.NET errors often wrap the message that says what went wrong; show the chain once.
static string Describe(Exception e)
{
    var messages = new List<string>();
    for (var current = e; current is not null; current = current.InnerException)
        if (!messages.Any(m => m.Contains(current.Message, StringComparison.Ordinal)))
            messages.Add(current.Message);
    return string.Join(" <- ", messages);
}
