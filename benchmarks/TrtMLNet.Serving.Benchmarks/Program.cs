using System.CommandLine;
using TrtMLNet;
using TrtMLNet.Serving.Benchmarks;

// A load test, not a test: prints a markdown table of throughput and latency per number of clients.
var model = new Option<string>("--model") { Description = "mlp, resnet18 or resnet50.", DefaultValueFactory = _ => "mlp" };
var backend = new Option<TensorRtBackend>("--backend") { Description = "TrtMLNet's backend for the pool's model (and the trt baseline).", DefaultValueFactory = _ => TensorRtBackend.Auto };
var device = new Option<int?>("--device") { Description = "GPU to run on; leave out on a machine without one (the ML.NET baseline then runs on the CPU)." };
var modelsFolder = new Option<string?>("--models-folder") { Description = "Folder with resnet50.onnx (input 'input' [N,3,224,224], output 'logits'), for --model resnet50." };
var clients = new Option<string>("--clients") { Description = "Comma-separated numbers of concurrent clients.", DefaultValueFactory = _ => "1,16,64,256" };
var duration = new Option<double>("--duration") { Description = "Seconds measured per contender and number of clients.", DefaultValueFactory = _ => 10 };
var warmup = new Option<double>("--warmup") { Description = "Seconds of load before measuring.", DefaultValueFactory = _ => 2 };
var engineBatch = new Option<int>("--engine-batch") { Description = "BatchSize of the model's TrtMLNet stage (its engine's largest batch).", DefaultValueFactory = _ => 256 };
var buckets = new Option<string?>("--buckets") { Description = "TensorRtOptions.BatchBuckets of the pool's model, comma-separated (e.g. 1,4,16): smaller batch sizes a short batch is padded to instead of --engine-batch." };
var maxBatch = new Option<int>("--max-batch") { Description = "PredictionPoolOptions.MaxBatchSize.", DefaultValueFactory = _ => 64 };
var maxDelay = new Option<double>("--max-delay-ms") { Description = "PredictionPoolOptions.MaxDelay in milliseconds.", DefaultValueFactory = _ => 0 };
var concurrentBatches = new Option<int>("--concurrent-batches") { Description = "PredictionPoolOptions.MaxConcurrentBatches.", DefaultValueFactory = _ => new TrtMLNet.Serving.PredictionPoolOptions().MaxConcurrentBatches };
var lanes = new Option<int?>("--lanes") { Description = "TensorRtOptions.Lanes (lanes) of the pool's model." };
var graphs = new Option<bool>("--cuda-graphs") { Description = "TensorRtOptions.CudaGraphs." };
var baselines = new Option<string>("--baselines") { Description = "onnx (ML.NET's Load, what PredictionEnginePool serves), trt (LoadWithTensorRt row by row), both, or \",\" for none.", DefaultValueFactory = _ => "onnx" };
var precision = new Option<TensorRtPrecision>("--precision") { Description = "TensorRtOptions.Precision of the pool's model (Fp32, Fp16, Bf16).", DefaultValueFactory = _ => TensorRtPrecision.Fp32 };
var markdown = new Option<string?>("--markdown") { Description = "Also write the table to this file." };

var root = new RootCommand("Load test: PredictionPool (batched) against ObjectPool<PredictionEngine> (what PredictionEnginePool does), in one process.")
{
    model, backend, device, modelsFolder, clients, duration, warmup, engineBatch, buckets, maxBatch, maxDelay, concurrentBatches, lanes, graphs, precision, baselines, markdown,
};
root.SetAction(async (parse, _) =>
{
    var options = new BenchmarkOptions(
        parse.GetValue(model)!, parse.GetValue(backend), parse.GetValue(device), parse.GetValue(modelsFolder),
        parse.GetValue(clients)!.Split(',').Select(int.Parse).ToArray(),
        TimeSpan.FromSeconds(parse.GetValue(duration)), TimeSpan.FromSeconds(parse.GetValue(warmup)),
        parse.GetValue(engineBatch), parse.GetValue(buckets)?.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray(), parse.GetValue(maxBatch), TimeSpan.FromMilliseconds(parse.GetValue(maxDelay)),
        parse.GetValue(concurrentBatches), parse.GetValue(lanes), parse.GetValue(graphs), parse.GetValue(precision),
        parse.GetValue(baselines)!.Split(',', StringSplitOptions.RemoveEmptyEntries).SelectMany(b => b == "both" ? ["onnx", "trt"] : new[] { b }).ToArray(),
        parse.GetValue(markdown));
    return await ServingBenchmark.RunAsync(options, Console.Out);
});
return await root.Parse(args).InvokeAsync();
