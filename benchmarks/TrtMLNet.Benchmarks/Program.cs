using System.CommandLine;
using TrtMLNet.Benchmarks;

// Benchmarks, not tests: they print markdown tables for docs/benchmarks.md.
var passes = new Option<int>("--passes") { Description = "Timed passes per contender (the median is reported).", DefaultValueFactory = _ => 5 };
var mlpRows = new Option<int>("--mlp-rows") { Description = "Rows scored by the MLP per pass.", DefaultValueFactory = _ => 200_000 };
var images = new Option<int>("--images") { Description = "Images scored by the CNN per pass.", DefaultValueFactory = _ => 48 };
var cpu = new Command("cpu", "ApplyTensorRt (ONNX Runtime CPU) vs ApplyOnnxModel: tabular MLP and ResNet-18.") { passes, mlpRows, images };
cpu.SetAction(parse => CpuBenchmark.Run(parse.GetValue(mlpRows), parse.GetValue(images), parse.GetValue(passes), Console.Out));

var models = new Option<string>("--models") { Description = "Folder with resnet50.onnx and bert-base.onnx (tests/TrtMLNet.GpuTests/export_models.py).", Required = true };
var batches = new Option<string>("--batch-sizes") { Description = "Comma-separated batch sizes.", DefaultValueFactory = _ => "1,32,128,256" };
var rows = new Option<int>("--rows") { Description = "Rows scored per pass.", DefaultValueFactory = _ => 2048 };
var only = new Option<string?>("--only") { Description = "Run only the models whose name contains this (e.g. ResNet, BERT)." };
var lanes = new Option<int>("--lanes") { Description = "ApplyTensorRt's Lanes.", DefaultValueFactory = _ => new TrtMLNet.TensorRtOptions().Lanes };
var readAhead = new Option<int>("--read-ahead") { Description = "ApplyTensorRt's ReadAheadBatches.", DefaultValueFactory = _ => new TrtMLNet.TensorRtOptions().ReadAheadBatches };
var minPass = new Option<double>("--min-pass") { Description = "Seconds each timed pass lasts at least.", DefaultValueFactory = _ => 1.0 };
var settings = new Option<string?>("--settings") { Description = "Precision settings to run, comma-separated: FP32, TF32, FP16, \"FP16 + CUDA graphs\" (all four by default), \"FP16 + fused transformer ops\" (only when named)." };
var gpu = new Command("gpu", "ApplyTensorRt (ONNX Runtime CUDA) at FP32, TF32, FP16 and FP16 with CUDA graphs beside the raw engine at the same settings and ApplyOnnxModel: ResNet-50 and BERT-base.")
    { models, batches, rows, passes, only, lanes, readAhead, minPass, settings };
gpu.SetAction(parse => GpuBenchmark.Run(parse.GetValue(models)!, parse.GetValue(batches)!.Split(',').Select(int.Parse).ToArray(), parse.GetValue(passes), parse.GetValue(rows),
    parse.GetValue(only), parse.GetValue(lanes), parse.GetValue(readAhead), parse.GetValue(minPass), parse.GetValue(settings), Console.Out));

var jpegFolder = new Option<string>("--folder") { Description = "Folder of JPEGs (e.g. from anchors/make_jpegs.py).", Required = true };
var jpegBatch = new Option<int>("--batch") { Description = "Images per batch.", DefaultValueFactory = _ => 128 };
var jpegLanes = new Option<int>("--lanes") { Description = "Decoders (each with its stream) working at once.", DefaultValueFactory = _ => 1 };
var jpegResize = new Option<string>("--resize") { Description = "imagenet (Resize(256), CenterCrop(224)) or stretch (224x224).", DefaultValueFactory = _ => "imagenet" };
var jpegType = new Option<string>("--type") { Description = "Tensor element type: float, float16 or uint8.", DefaultValueFactory = _ => "float" };
var jpegProbe = new Option<bool>("--probe-overlap") { Description = "Instead of throughput: whether a batch decode waits for work queued on another stream." };
var jpegThreads = new Option<bool>("--probe-threads") { Description = "Instead of throughput: the decoupled default backend's batch decode on 1 to 14 threads, alone and beside busy work." };
var nvjpeg = new Command("nvjpeg", "The GPU image path: nvJPEG decode + resize/normalise kernels into a device batch, hardware vs default backend.") { jpegFolder, jpegBatch, passes, jpegLanes, jpegResize, jpegType, jpegProbe, jpegThreads };
nvjpeg.SetAction(parse => NvJpegBenchmark.Run(parse.GetValue(jpegFolder)!, parse.GetValue(jpegBatch), parse.GetValue(passes), parse.GetValue(jpegLanes), parse.GetValue(jpegResize)!, parse.GetValue(jpegType)!,
    parse.GetValue(jpegProbe), parse.GetValue(jpegThreads), Console.Out));

var imageFolder = new Option<string?>("--folder") { Description = "Folder of JPEGs (img_00000.jpg, ...); missing ones are drawn (500x375, quality 90). Default: a folder in the temp directory." };
var imageCount = new Option<int>("--count") { Description = "Images per pass.", DefaultValueFactory = _ => 1024 };
var imageSize = new Option<string>("--size") { Description = "Size of the JPEGs drawn, WxH (ImageNet's typical 500x375 by default).", DefaultValueFactory = _ => "500x375" };
var imageDecode = new Command("images", "Images/s of TrtMLNet's CPU image decoding vs ML.NET's LoadImages -> ResizeImages -> ExtractPixels.") { imageFolder, imageCount, imageSize, passes };
imageDecode.SetAction(parse =>
{
    var size = parse.GetValue(imageSize)!.Split('x').Select(int.Parse).ToArray();
    ImageDecodeBenchmark.Run(parse.GetValue(imageFolder), parse.GetValue(imageCount), size[0], size[1], parse.GetValue(passes), Console.Out);
});

var weights = new Option<int>("--million-weights") { Description = "Size of the synthetic MLP, in millions of float32 weights.", DefaultValueFactory = _ => 110 };
var rewrite = new Command("rewrite", "The ONNX float16/bfloat16 rewrite: ResNet-18 and a synthetic MLP.") { weights, passes };
rewrite.SetAction(parse => PrecisionRewriteBenchmark.Run(parse.GetValue(weights), parse.GetValue(passes), Console.Out));

var root = new RootCommand("TrtMLNet benchmarks") { cpu, gpu, imageDecode, nvjpeg, rewrite };
return root.Parse(args).Invoke();
