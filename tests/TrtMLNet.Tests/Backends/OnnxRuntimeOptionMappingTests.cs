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
}
