using BatchScoring.InputSources;
using TrtMLNet;

namespace BatchScoring;

/// <summary>Everything a scoring run was asked to do, as parsed from the command line.</summary>
public sealed record JobOptions
{
    /// <summary>A CSV file, a Parquet file or a folder of images.</summary>
    public required string Input { get; init; }

    public required string Model { get; init; }

    /// <summary>The file to write (.parquet or .csv), or a folder for part files.</summary>
    public required string Output { get; init; }

    /// <summary>parquet or csv: the part files' format when <see cref="Output"/> is a folder; null takes it from the extension (or parquet).</summary>
    public string? Format { get; init; }

    /// <summary>Replace an existing output (and start over from a stopped run's parts).</summary>
    public bool Overwrite { get; init; }

    /// <summary>Continue a stopped run from its last committed part.</summary>
    public bool Resume { get; init; }

    public BadRowPolicy BadRows { get; init; } = BadRowPolicy.Stop;

    /// <summary>Rows per committed part.</summary>
    public int CommitEvery { get; init; } = DefaultCommitEvery;

    public const int DefaultCommitEvery = 65536;

    /// <summary>The part of the input this process scores.</summary>
    public ShardSpec Shard { get; init; } = ShardSpec.Whole;

    /// <summary>Model outputs to write; null or empty writes them all.</summary>
    public string[]? Outputs { get; init; }

    public TensorRtBackend Backend { get; init; } = TensorRtBackend.Auto;

    public int? Device { get; init; }

    /// <summary>Null: the model's own batch when it fixes one, else TrtMLNet's default.</summary>
    public int? BatchSize { get; init; }

    /// <summary><see cref="TensorRtOptions.OpenBatchDimension"/>: batch a model exported with a batch of 1.</summary>
    public bool OpenBatch { get; init; }

    public int Concurrency { get; init; } = 2;

    /// <summary><see cref="TensorRtOptions.ReadAheadBatches"/>; null: as many as there are lanes, at least 2.</summary>
    public int? ReadAhead { get; init; }

    /// <summary>Batches the job reads ahead of the one it writes.</summary>
    public int ReadAheadBatches => ReadAhead ?? Math.Max(2, Concurrency);

    /// <summary><see cref="TensorRtOptions.FallbackToCpu"/>: null leaves it to TrtMLNet (Auto may fall back, an explicit GPU backend may not).</summary>
    public bool? CpuFallback { get; init; }

    /// <summary>Rows to compare against ONNX Runtime on the CPU after scoring; null for no check.</summary>
    public int? CheckParity { get; init; }

    public bool MemoryReport { get; init; }

    /// <summary>Score only the first rows.</summary>
    public long? Limit { get; init; }

    /// <summary>The column that identifies a row, carried to the output; null looks for id/Id/ID.</summary>
    public string? IdColumn { get; init; }

    /// <summary>CSV field separator; null takes a tab for .tsv files and a comma otherwise.</summary>
    public char? Separator { get; init; }

    /// <summary>Width and height images are resized to; null takes the model's, else 224.</summary>
    public int? ImageSize { get; init; }

    /// <summary>Added to every pixel value (0..255) before scaling.</summary>
    public float PixelOffset { get; init; }

    public float PixelScale { get; init; } = 1f;

    /// <summary>Planes in blue, green, red order (Caffe and CNTK models) instead of red, green, blue.</summary>
    public bool Bgr { get; init; }

    /// <summary>--resize: the shorter side is resized to this before a center crop; null stretches (unless --crop or --preset).</summary>
    public int? Resize { get; init; }

    /// <summary>--crop: the center crop's width and height; null takes the model's size.</summary>
    public int? Crop { get; init; }

    /// <summary>--mean: per-channel means on the 0..1 scale, R, G, B (torchvision's Normalize).</summary>
    public float[]? Mean { get; init; }

    /// <summary>--std: per-channel standard deviations on the 0..1 scale, R, G, B.</summary>
    public float[]? Std { get; init; }

    public ImagePreset? Preset { get; init; }

    /// <summary>Where images are decoded: nvJPEG on the GPU when the model runs there (auto), or on the CPU.</summary>
    public ImageDecoderKind Decoder { get; init; } = ImageDecoderKind.Auto;

    /// <summary>How JPEGs decode on the GPU (--gpu-jpeg).</summary>
    public GpuJpegDecoding GpuJpeg { get; init; } = GpuJpegDecoding.Auto;

    /// <summary>Host threads of each lane's hybrid JPEG decoder (--gpu-jpeg-threads); null: every core.</summary>
    public int? GpuJpegThreads { get; init; }

    public TensorRtPrecision Precision { get; init; } = TensorRtPrecision.Fp32;

    /// <summary><see cref="TensorRtOptions.AllowTf32"/> for FP32 math.</summary>
    public bool Tf32 { get; init; } = true;

    public bool Verbose { get; init; }
}
