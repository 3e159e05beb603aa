using System.CommandLine;
using System.CommandLine.Parsing;
using Spectre.Console;
using BatchScoring.InputSources;
using TrtMLNet;
using static BatchScoring.Cli.ArgumentParsers;

namespace BatchScoring.Cli;

/// <summary>The command line: every option, its parser, and how a parse becomes <see cref="JobOptions"/>.</summary>
public sealed class JobCommand
{
    private readonly Option<string> _input = new("--input", "-i") { Description = "A CSV (.csv, .tsv) or Parquet (.parquet) file, or a folder of images (jpg, png, bmp; searched recursively)." };
    private readonly Option<string> _model = new("--model", "-m") { Description = "The ONNX model." };
    private readonly Option<string> _output = new("--output", "-o")
    {
        Description = "The file to write (.parquet or .csv), or a folder (no extension, or ending in /) to write part-<i>-of-<N> files into, with a _manifest.json.",
        DefaultValueFactory = _ => Path.Combine("output", "scores.parquet"),
    };
    private readonly Option<string> _format = new("--format") { Description = "parquet or csv: the part files' format when --output is a folder (default parquet); must match a file's extension.", HelpName = "parquet|csv" };
    private readonly Option<bool> _overwrite = new("--overwrite") { Description = "Replace an existing output (it stays until the new one is complete), and start over from a stopped run's parts." };
    private readonly Option<bool> _resume = new("--resume") { Description = "Continue a stopped or killed run of the same command from its last committed part; with a complete output and no stopped run, do nothing." };
    private readonly Option<BadRowPolicy> _badRows = new("--bad-rows") { Description = "stop: stop at the first bad row, naming file, line or row, column and value. skip: write bad rows to <output>.rejects.csv with the reason and go on.", DefaultValueFactory = _ => BadRowPolicy.Stop, HelpName = "stop|skip" };
    private readonly Option<int> _commitEvery = new("--commit-every") { Description = "Rows per committed part: what a kill can lose, and what --resume continues after.", DefaultValueFactory = _ => JobOptions.DefaultCommitEvery, HelpName = "N" };
    private readonly Option<string> _shard = new("--shard") { Description = "Score shard i of N (0-based), e.g. 0/3: a disjoint part of the input (Parquet row groups, CSV byte ranges, image files). --output must be a folder.", HelpName = "i/N" };
    private readonly Option<int?> _shards = new("--shards") { Description = "Score one of N shards, the index taken from JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or SLURM_ARRAY_TASK_ID (Slurm array).", HelpName = "N" };
    private readonly Option<string[]> _outputs = new("--outputs") { Description = "Model outputs to write (default: all).", AllowMultipleArgumentsPerToken = true };
    private readonly Option<TensorRtBackend> _backend = new("--backend", "-b") { Description = "Which engine runs the model.", DefaultValueFactory = _ => TensorRtBackend.Auto };
    private readonly Option<int?> _device = new("--device", "-d") { Description = "The GPU to run on (default: 0)." };
    private readonly Option<int?> _batchSize = new("--batch-size") { Description = $"Rows per batch (default: the model's own when it fixes one, else {TensorRtOptions.DefaultBatchSize}); capped to the rows there are." };
    private readonly Option<bool> _openBatch = new("--open-batch") { Description = "For a model exported with its batch fixed at 1: open the batch dimension so rows run in batches of --batch-size (check the outputs with --check-parity)." };
    private readonly Option<int> _concurrency = new("--concurrency") { Description = "Batches in flight on the device at once (lanes).", DefaultValueFactory = _ => 2 };
    private readonly Option<int?> _readAhead = new("--read-ahead") { Description = "Batches read and sent ahead of the one being written (default: --concurrency, at least 2).", HelpName = "N" };
    private readonly Option<bool?> _cpuFallback = new("--cpu-fallback")
    {
        Description = "Whether to run on the CPU when the GPU backend cannot run: true (any --backend), false (never; fail and say why). Default: Auto may fall back, an explicit GPU backend may not.",
        HelpName = "true|false",
        Arity = ArgumentArity.ZeroOrOne,
    };
    private readonly Option<int?> _checkParity = new("--check-parity") { Description = "After scoring, compare the first N rows with ONNX Runtime on the CPU; exit code 3 if they differ beyond the tolerance.", HelpName = "N" };
    private readonly Option<bool> _memoryReport = new("--memory-report") { Description = "Print where the device memory goes (engines, contexts, scratch slabs, lanes, staging)." };
    private readonly Option<long?> _limit = new("--limit") { Description = "Score only the first N rows (of this shard).", HelpName = "N" };
    private readonly Option<string> _idColumn = new("--id-column") { Description = "The column that identifies a row, carried to the output (default: a column named id, Id or ID)." };
    private readonly Option<string> _separator = new("--separator") { Description = "CSV field separator: one character, or 'tab' (default: tab for .tsv, else comma)." };
    private readonly Option<int?> _imageSize = new("--image-size") { Description = "Width and height images are resized to (default: the model's, else 224)." };
    private readonly Option<float> _pixelOffset = new("--pixel-offset") { Description = "Added to each pixel value (0..255) before scaling, e.g. -127.5." };
    private readonly Option<float> _pixelScale = new("--pixel-scale") { Description = "Pixel values are multiplied by this after the offset, e.g. 0.00392 for 0..1.", DefaultValueFactory = _ => 1f };
    private readonly Option<bool> _bgr = new("--bgr") { Description = "Extract planes in blue, green, red order (Caffe- and CNTK-style models)." };
    private readonly Option<int?> _resize = new("--resize") { Description = "Resize the shorter side of each image to N, keeping its aspect ratio, then center-crop to the model's size (torchvision's Resize(N) + CenterCrop).", HelpName = "N" };
    private readonly Option<int?> _crop = new("--crop") { Description = "The center crop's size when the model leaves its size open (default: the model's, else 224); alone, the shorter side is resized to it.", HelpName = "N" };
    private readonly Option<float[]?> _mean = new("--mean") { Description = "Per-channel means R,G,B on the 0..1 scale, subtracted after scaling pixels to 0..1 (torchvision's Normalize).", HelpName = "r,g,b" };
    private readonly Option<float[]?> _std = new("--std") { Description = "Per-channel standard deviations R,G,B on the 0..1 scale the centred values are divided by.", HelpName = "r,g,b" };
    private readonly Option<ImagePreset?> _preset = new("--preset") { Description = "imagenet: torchvision's ImageNet evaluation transform, Resize(256), CenterCrop(224), ImageNet mean and std.", HelpName = "imagenet" };
    private readonly Option<ImageDecoderKind> _decoder = new("--decoder") { Description = "Where images are decoded: auto (nvJPEG on the GPU when the model runs there, else every CPU core), cpu, or gpu (an error where nvJPEG is not available).", DefaultValueFactory = _ => ImageDecoderKind.Auto, HelpName = "auto|cpu|gpu" };
    private readonly Option<GpuJpegDecoding> _gpuJpeg = new("--gpu-jpeg") { Description = "How JPEGs decode on the GPU: hybrid (Huffman on every CPU core, the rest on the GPU, beside the engine), hardwareengine (the GPU's JPEG engine, whose batches wait for the GPU to idle), or auto (hybrid on 8 cores or more).", DefaultValueFactory = _ => GpuJpegDecoding.Auto, HelpName = "auto|hybrid|hardwareengine" };
    private readonly Option<int?> _gpuJpegThreads = new("--gpu-jpeg-threads") { Description = "Host threads each lane's hybrid JPEG decoder uses (default: every core); each thread holds two slots whose pinned and device buffers grow with the largest image it decoded (by estimate about 3 bytes per pixel each), so lower it for large photos on many cores.", HelpName = "N" };
    private readonly Option<TensorRtPrecision> _precision = new("--precision") { Description = "fp32 (the model's own), fp16 or bf16: run the model in reduced precision on a GPU (check with --check-parity).", DefaultValueFactory = _ => TensorRtPrecision.Fp32, HelpName = "fp32|fp16|bf16" };
    private readonly Option<bool> _tf32 = new("--tf32") { Description = "Whether FP32 convolutions and matrix products may use TF32 tensor cores (true, the default, as PyTorch's cuDNN default) or strict FP32 (false).", DefaultValueFactory = _ => true, HelpName = "true|false" };
    private readonly Option<bool> _example = new("--example") { Description = "Run the built-in example: synthetic images through ResNet-18 (also what no arguments do); it replaces its own earlier output." };
    private readonly Option<bool> _verbose = new("--verbose", "-v") { Description = "Print TrtMLNet's messages and, on errors, the stack trace." };

    public JobCommand()
    {
        _batchSize.CustomParser = OptionalWholeNumber("--batch-size", 1);
        _concurrency.CustomParser = WholeNumber("--concurrency", 1, 64);
        _readAhead.CustomParser = OptionalWholeNumber("--read-ahead", 1, 64);
        _gpuJpegThreads.CustomParser = OptionalWholeNumber("--gpu-jpeg-threads", 1, 1024);
        _commitEvery.CustomParser = WholeNumber("--commit-every", 1);
        _shards.CustomParser = OptionalWholeNumber("--shards", 1, 99999);
        _device.CustomParser = OptionalWholeNumber("--device", 0);
        _checkParity.CustomParser = OptionalWholeNumber("--check-parity", 1);
        _limit.CustomParser = OptionalLong("--limit", 1);
        _imageSize.CustomParser = OptionalWholeNumber("--image-size", 8, 16384);
        _pixelOffset.CustomParser = Real("--pixel-offset");
        _pixelScale.CustomParser = Real("--pixel-scale");
        _resize.CustomParser = OptionalWholeNumber("--resize", 1, 16384);
        _crop.CustomParser = OptionalWholeNumber("--crop", 1, 16384);
        _mean.CustomParser = Triple("--mean", positive: false);
        _std.CustomParser = Triple("--std", positive: true);
        Root = new RootCommand(
            "Scores a CSV file, a Parquet file or a folder of images with an ONNX model through TrtMLNet (TensorRT in ML.NET) " +
            "and writes the model's outputs to Parquet or CSV, committed in parts (--resume continues a stopped run), optionally as one shard of many. " +
            "With no arguments it runs a built-in example. Exit codes: 0 done, 1 error, 2 usage, 3 parity check failed, 4 bad row, 5 output locked, 129/130/143 stopped by SIGHUP/SIGINT/SIGTERM.")
        {
            _input, _model, _output, _format, _overwrite, _resume, _badRows, _commitEvery, _shard, _shards, _outputs, _backend, _device, _batchSize,
            _openBatch, _concurrency, _readAhead, _cpuFallback, _checkParity, _memoryReport, _limit, _idColumn, _separator, _imageSize, _pixelOffset, _pixelScale,
            _bgr, _resize, _crop, _mean, _std, _preset, _decoder, _gpuJpeg, _gpuJpegThreads, _precision, _tf32, _example, _verbose,
        };
    }

    public RootCommand Root { get; }

    /// <summary>Turns a successful parse into options; throws <see cref="UsageException"/> for what the parser cannot check.</summary>
    public JobOptions ToOptions(ParseResult parse, Func<string, string?> environment)
    {
        var outputPath = parse.GetValue(_output)!;
        var isExample = parse.GetValue(_example);
        string inputPath, modelPath;
        var pixelOffsetValue = parse.GetValue(_pixelOffset);
        var bgrValue = parse.GetValue(_bgr);
        var overwrite = parse.GetValue(_overwrite);
        if (isExample)
        {
            if (parse.GetValue(_input) is not null)
                throw new UsageException("--example makes its own images; leave out --input (or leave out --example to score your own data).");
            inputPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(outputPath))!, "example-images");
            modelPath = parse.GetValue(_model) ?? (File.Exists(ExampleImages.ModelPath)
                ? ExampleImages.ModelPath
                : throw new UsageException($"This build leaves out the example's model ({ExampleImages.ModelPath} is missing: it was built with -p:IncludeExampleModel=false); pass --model with an image model taking [N,3,H,W]."));
            AnsiConsole.MarkupLine("[bold]Built-in example[/]: synthetic images scored with the ResNet-18 featurizer of Microsoft.ML.DnnImageFeaturizer.ResNet18. Run with --help for your own data.");
            var count = ExampleImages.Write(inputPath);
            ConsoleReports.Note($"Drew {count} images into {inputPath}");
            // The example's preprocessing, unless asked otherwise (a result is implicit when only the default filled it).
            if (parse.GetResult(_pixelOffset) is not { Implicit: false })
                pixelOffsetValue = ExampleImages.PixelOffset;
            if (parse.GetResult(_bgr) is not { Implicit: false })
                bgrValue = true;
            // A demo run again should just work: it replaces its own output unless resuming.
            overwrite |= !parse.GetValue(_resume);
        }
        else
        {
            inputPath = parse.GetValue(_input) ?? throw new UsageException("--input is missing: give a CSV or Parquet file or a folder of images (or --example, or no arguments at all, for the built-in example).");
            modelPath = parse.GetValue(_model) ?? throw new UsageException("--model is missing: give an ONNX model.");
        }

        return new JobOptions
        {
            Input = inputPath,
            Model = modelPath,
            Output = outputPath,
            Format = parse.GetValue(_format),
            Overwrite = overwrite,
            Resume = parse.GetValue(_resume),
            BadRows = parse.GetValue(_badRows),
            CommitEvery = parse.GetValue(_commitEvery),
            Shard = Shard(parse, environment),
            Outputs = parse.GetValue(_outputs),
            Backend = parse.GetValue(_backend),
            Device = parse.GetValue(_device),
            BatchSize = parse.GetValue(_batchSize),
            OpenBatch = parse.GetValue(_openBatch),
            Concurrency = parse.GetValue(_concurrency),
            ReadAhead = parse.GetValue(_readAhead),
            CpuFallback = CpuFallback(parse),
            CheckParity = parse.GetValue(_checkParity),
            MemoryReport = parse.GetValue(_memoryReport),
            Limit = parse.GetValue(_limit),
            IdColumn = parse.GetValue(_idColumn),
            Separator = Separator(parse.GetValue(_separator)),
            ImageSize = parse.GetValue(_imageSize),
            PixelOffset = pixelOffsetValue,
            PixelScale = parse.GetValue(_pixelScale),
            Bgr = bgrValue,
            Resize = parse.GetValue(_resize),
            Crop = parse.GetValue(_crop),
            // An array option left out reads as empty, not null.
            Mean = parse.GetValue(_mean) is { Length: > 0 } mean ? mean : null,
            Std = parse.GetValue(_std) is { Length: > 0 } std ? std : null,
            Preset = parse.GetValue(_preset),
            Decoder = parse.GetValue(_decoder),
            GpuJpeg = parse.GetValue(_gpuJpeg),
            GpuJpegThreads = parse.GetValue(_gpuJpegThreads),
            Precision = parse.GetValue(_precision),
            Tf32 = parse.GetValue(_tf32),
            Verbose = parse.GetValue(_verbose),
        };
    }

    public bool IsVerbose(ParseResult parse) => parse.GetValue(_verbose);

    private ShardSpec Shard(ParseResult parse, Func<string, string?> environment)
    {
        var shard = parse.GetValue(_shard);
        var shards = parse.GetValue(_shards);
        if (shard is not null && shards is not null)
            throw new UsageException("--shard i/N names the shard itself; --shards N takes it from the scheduler's environment: pass one of them.");
        return shard is not null ? ShardSpec.Parse(shard)
            : shards is { } n ? ShardSpec.FromEnvironment(n, environment)
            : ShardSpec.Whole;
    }

    // A bare --cpu-fallback means true; leaving it out leaves the choice to TrtMLNet.
    private bool? CpuFallback(ParseResult parse) => parse.GetResult(_cpuFallback) switch
    {
        null or { Implicit: true } => null,
        { Tokens.Count: 0 } => true,
        _ => parse.GetValue(_cpuFallback),
    };

    private static char? Separator(string? value) => value switch
    {
        null => null,
        "tab" or "\\t" or "\t" => '\t',
        { Length: 1 } => value[0],
        _ => throw new UsageException($"--separator takes one character or 'tab', not '{value}'."),
    };
}
