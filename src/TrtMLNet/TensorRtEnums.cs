namespace TrtMLNet;

/// <summary>Which engine runs the model.</summary>
public enum TensorRtBackend
{
    /// <summary>
    /// The fastest one present, tried in this order: <see cref="TensorRt"/>, <see cref="OnnxRuntimeTensorRt"/>,
    /// <see cref="OnnxRuntimeCuda"/>, then <see cref="OnnxRuntimeCpu"/> unless <see cref="TensorRtOptions.FallbackToCpu"/>
    /// is false. Every step skipped is logged with its reason.
    /// </summary>
    Auto = 0,

    /// <summary>TensorRT itself, through TrtMLNet's native shim: engines built from ONNX (or loaded), shared scratch.</summary>
    TensorRt,

    /// <summary>ONNX Runtime with its TensorRT execution provider (needs libnvinfer).</summary>
    OnnxRuntimeTensorRt,

    /// <summary>ONNX Runtime with its CUDA execution provider.</summary>
    OnnxRuntimeCuda,

    /// <summary>ONNX Runtime on the CPU; also the reference that parity checks compare against.</summary>
    OnnxRuntimeCpu,
}

/// <summary>A backend that <see cref="TensorRtBackend.Auto"/> (or a fallback) passed over, and why, with what to install.</summary>
public sealed record SkippedBackend(TensorRtBackend Backend, string Reason)
{
    public override string ToString() => $"[{Backend}] {Reason}";
}

/// <summary>Precision TensorRT may use for layers when it builds an engine.</summary>
public enum TensorRtPrecision
{
    /// <summary>The model's own types (FP32 for an FP32 model); the only choice on TensorRT 11, which is strongly typed.</summary>
    Fp32 = 0,

    /// <summary>Allow FP16 kernels (TensorRT 10's kFP16; ONNX Runtime's trt_fp16_enable).</summary>
    Fp16,

    /// <summary>Allow BF16 kernels (TensorRT 10's kBF16; ONNX Runtime's trt_bf16_enable).</summary>
    Bf16,
}

/// <summary>How cuDNN chooses a convolution algorithm on ONNX Runtime CUDA (its cudnn_conv_algo_search).</summary>
public enum CudnnConvolutionSearch
{
    /// <summary>Times every algorithm once per shape and keeps the fastest: slower first batches, fastest after.</summary>
    Exhaustive = 0,

    /// <summary>cuDNN's heuristics pick without timing.</summary>
    Heuristic,

    /// <summary>cuDNN's default algorithm, no search.</summary>
    Default,
}

/// <summary>TensorRT tactic sources, to turn on or off when an engine is built.</summary>
[Flags]
public enum TensorRtTacticSources
{
    None = 0,
    /// <summary>cuBLAS (TensorRT 10 only; off by default there).</summary>
    Cublas = 1 << 0,
    /// <summary>cuBLAS LT (TensorRT 10 only; off by default there).</summary>
    CublasLt = 1 << 1,
    /// <summary>cuDNN (TensorRT 10 only; off by default there). Leaving it off saves its workspace.</summary>
    Cudnn = 1 << 2,
    /// <summary>Edge-mask convolutions: faster, at the cost of persistent memory per context.</summary>
    EdgeMaskConvolutions = 1 << 3,
    /// <summary>JIT convolutions.</summary>
    JitConvolutions = 1 << 4,
}
