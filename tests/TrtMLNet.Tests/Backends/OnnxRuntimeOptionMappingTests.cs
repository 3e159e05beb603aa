using TrtMLNet.Backends;
using TrtMLNet.Backends.OnnxRuntime;

namespace TrtMLNet.Tests.Backends;

/// <summary>TrtMLNet's engine options as ONNX Runtime's provider keys (OrtTensorRTProviderOptionsV2, OrtCUDAProviderOptionsV2).</summary>
public class OnnxRuntimeOptionMappingTests
{
    [Fact]
    public void EveryTensorRtOptionMapsToItsProviderKey()
    {
        var options = new EngineOptions
        {
            Backend = TensorRtBackend.OnnxRuntimeTensorRt,
            DeviceId = 1,
            EngineCacheDirectory = "/var/cache/engines",
            ShareScratch = true,
            Build = new EngineBuildOptions
            {
                Precision = TensorRtPrecision.Fp16,
                WorkspaceBytes = 2L << 30,
                EnableTactics = TensorRtTacticSources.Cublas,
                DisableTactics = TensorRtTacticSources.Cudnn | TensorRtTacticSources.EdgeMaskConvolutions,
                BuilderOptimizationLevel = 5,
                MaxAuxStreams = 0,
                TimingCacheFile = "/var/cache/timing/resnet.cache",
                CudaGraphs = true,
                Profiles =
                [
                    new Dictionary<string, (long[], long[], long[])> { ["input"] = ([1, 3, 224, 224], [64, 3, 224, 224], [128, 3, 224, 224]) },
                    new Dictionary<string, (long[], long[], long[])> { ["input"] = ([129, 3, 224, 224], [256, 3, 224, 224], [256, 3, 224, 224]) },
                ],
            },
        };
        var keys = OnnxRuntimeSessionOptions.TensorRtProviderKeys(options);
        Assert.Equal("1", keys["device_id"]);
        Assert.Equal("1", keys["trt_fp16_enable"]);
        Assert.False(keys.ContainsKey("trt_bf16_enable"));
        Assert.Equal("2147483648", keys["trt_max_workspace_size"]);
        Assert.Equal("+CUBLAS,-CUDNN,-EDGE_MASK_CONVOLUTIONS", keys["trt_tactic_sources"]);
        Assert.Equal("5", keys["trt_builder_optimization_level"]);
        Assert.Equal("0", keys["trt_auxiliary_streams"]);
        Assert.Equal("1", keys["trt_engine_cache_enable"]);
        Assert.Equal("/var/cache/engines", keys["trt_engine_cache_path"]);
        Assert.Equal("1", keys["trt_timing_cache_enable"]);
        Assert.Equal("/var/cache/timing", keys["trt_timing_cache_path"]);
        Assert.Equal("1", keys["trt_cuda_graph_enable"]);
        Assert.Equal("1", keys["trt_context_memory_sharing_enable"]);
        Assert.Equal("input:1x3x224x224,input:129x3x224x224", keys["trt_profile_min_shapes"]);
        Assert.Equal("input:64x3x224x224,input:256x3x224x224", keys["trt_profile_opt_shapes"]);
        Assert.Equal("input:128x3x224x224,input:256x3x224x224", keys["trt_profile_max_shapes"]);
    }

    [Fact]
    public void UnsetOptionsLeaveOnnxRuntimesDefaults()
    {
        var keys = OnnxRuntimeSessionOptions.TensorRtProviderKeys(new EngineOptions { Backend = TensorRtBackend.OnnxRuntimeTensorRt, ShareScratch = false });
        Assert.Equal("0", keys["trt_context_memory_sharing_enable"]);
        Assert.Equal(TrtMLNet.Backends.TensorRt.EngineCache.DefaultDirectory, keys["trt_engine_cache_path"]);
        foreach (var key in new[] { "trt_fp16_enable", "trt_max_workspace_size", "trt_tactic_sources", "trt_builder_optimization_level", "trt_auxiliary_streams", "trt_timing_cache_enable", "trt_cuda_graph_enable", "trt_profile_min_shapes" })
            Assert.False(keys.ContainsKey(key), key);
    }

    [Theory]
    [InlineData(true, "1")]
    [InlineData(false, "0")]
    public void CudaProviderGetsTheDeviceAndTf32(bool allowTf32, string expected)
    {
        var keys = OnnxRuntimeSessionOptions.CudaProviderKeys(new EngineOptions { Backend = TensorRtBackend.OnnxRuntimeCuda, DeviceId = 3, Build = new EngineBuildOptions { AllowTf32 = allowTf32 } });
        Assert.Equal("3", keys["device_id"]);
        Assert.Equal(expected, keys["use_tf32"]);
    }

    [Fact]
    public void CudaTuningOptionsMapToTheCudaProvidersKeys()
    {
        var options = new TensorRtOptions { ConvolutionSearch = CudnnConvolutionSearch.Heuristic, CudnnMaxWorkspace = false, CudaGraphs = true, PreferNhwc = false };
        var keys = OnnxRuntimeSessionOptions.CudaProviderKeys(new EngineOptions { Backend = TensorRtBackend.OnnxRuntimeCuda, Build = EngineBuildOptions.From(options, []) });
        Assert.Equal("HEURISTIC", keys["cudnn_conv_algo_search"]);
        Assert.Equal("0", keys["cudnn_conv_use_max_workspace"]);
        Assert.Equal("1", keys["enable_cuda_graph"]);
        Assert.Equal("0", keys["prefer_nhwc"]);

        var defaults = OnnxRuntimeSessionOptions.CudaProviderKeys(new EngineOptions { Backend = TensorRtBackend.OnnxRuntimeCuda, Build = EngineBuildOptions.From(new TensorRtOptions(), []) });
        Assert.Equal("EXHAUSTIVE", defaults["cudnn_conv_algo_search"]);
        Assert.Equal("1", defaults["cudnn_conv_use_max_workspace"]);
        Assert.Equal("0", defaults["enable_cuda_graph"]);
        Assert.Equal("1", defaults["prefer_nhwc"]);
    }

    /// <summary>One session per batch size only where a new shape costs cuDNN's convolution search: CUDA, a search asked for, convolutions in the model.</summary>
    [Theory]
    [InlineData(TensorRtBackend.OnnxRuntimeCuda, CudnnConvolutionSearch.Exhaustive, "Conv", true)]
    [InlineData(TensorRtBackend.OnnxRuntimeCuda, CudnnConvolutionSearch.Default, "ConvTranspose", true)]
    [InlineData(TensorRtBackend.OnnxRuntimeCuda, CudnnConvolutionSearch.Heuristic, "Conv", false)]
    [InlineData(TensorRtBackend.OnnxRuntimeCuda, CudnnConvolutionSearch.Exhaustive, "MatMul", false)]
    [InlineData(TensorRtBackend.OnnxRuntimeCpu, CudnnConvolutionSearch.Exhaustive, "Conv", false)]
    public void OnlyConvolutionModelsOnCudaWithASearchGetASessionPerBatchSize(TensorRtBackend backend, CudnnConvolutionSearch search, string op, bool tuned)
    {
        var model = new Models.OnnxModelBuilder()
            .Input("x", Models.OnnxType.Float, "N", 4)
            .Node(op, ["x"], ["y"])
            .Output("y", Models.OnnxType.Float, "N", 4)
            .Build();
        var file = TrtMLNet.Onnx.OnnxModelReader.Read(model, "test model");
        var options = new EngineOptions { Backend = backend, Build = new EngineBuildOptions { ConvolutionSearch = search } };

        Assert.Contains(op, file.OpTypes);
        Assert.Equal(tuned, OnnxRuntimeEngine.TunesPerShape(options, file));
    }

    [Fact]
    public void CudaGraphsAreCapturedPerLaneBuffersForFullBatchesOnly()
    {
        using var runs = new CudaGraphRuns(capturedRows: 64);
        using var stream = new TrtMLNet.Device.HostStream();
        ExecutionRequest Request(long rows, IntPtr input) => new()
        {
            Inputs = [new("x", TensorElementType.Float32, [rows, 4], input, rows * 16)],
            Outputs = [new("y", TensorElementType.Float32, [rows, 4], input + 0x10000, rows * 16)],
            Stream = stream,
        };

        var laneA = runs.For(Request(64, 0x1000));
        var laneB = runs.For(Request(64, 0x9000));
        Assert.Same(laneA, runs.For(Request(64, 0x1000)));
        Assert.NotSame(laneA, laneB);
        var shortBatch = runs.For(Request(17, 0x1000));
        Assert.Same(shortBatch, runs.For(Request(3, 0x9000)));
        Assert.Equal(2, runs.Captured);
    }
}
