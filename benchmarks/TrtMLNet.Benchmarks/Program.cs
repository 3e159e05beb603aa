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
var lanes = new Option<int>("--lanes") { Description = "ApplyTensorRt's MaxConcurrency.", DefaultValueFactory = _ => new TrtMLNet.TensorRtOptions().MaxConcurrency };
var readAhead = new Option<int>("--read-ahead") { Description = "ApplyTensorRt's ReadAheadBatches.", DefaultValueFactory = _ => new TrtMLNet.TensorRtOptions().ReadAheadBatches };
var gpu = new Command("gpu", "ApplyTensorRt (ONNX Runtime CUDA) vs ApplyOnnxModel(gpuDeviceId: 0) vs the raw engine: ResNet-50 and BERT-base.") { models, batches, rows, passes, only, lanes, readAhead };
gpu.SetAction(parse => GpuBenchmark.Run(parse.GetValue(models)!, parse.GetValue(batches)!.Split(',').Select(int.Parse).ToArray(), parse.GetValue(passes), parse.GetValue(rows), parse.GetValue(only), parse.GetValue(lanes), parse.GetValue(readAhead), Console.Out));

var weights = new Option<int>("--million-weights") { Description = "Size of the synthetic MLP, in millions of float32 weights.", DefaultValueFactory = _ => 110 };
var rewrite = new Command("rewrite", "The ONNX float16/bfloat16 rewrite: ResNet-18 and a synthetic MLP.") { weights, passes };
rewrite.SetAction(parse => PrecisionRewriteBenchmark.Run(parse.GetValue(weights), parse.GetValue(passes), Console.Out));

var root = new RootCommand("TrtMLNet benchmarks") { cpu, gpu, rewrite };
return root.Parse(args).Invoke();
