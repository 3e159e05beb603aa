namespace TrtMLNet.Images.Gpu;

/// <summary>
/// One image of a batch for the GPU: its encoded bytes at <see cref="Data"/> (pinned host memory, so the
/// copies nvJPEG makes of them are asynchronous), <see cref="Source"/> for messages (a path, or "row N of
/// column C"), and its data view row for reports (-1 when unknown). The bytes must stay untouched until the
/// stream has passed the batch (see <see cref="NvJpegBatchDecoder.DecodeInto"/>).
/// </summary>
internal readonly record struct EncodedImage(IntPtr Data, long Length, string Source, long Row = -1);

/// <summary>An image the GPU leaves to the CPU path (not a JPEG, CMYK, 12-bit, ...): its place in the batch, source and why.</summary>
internal sealed record CpuFallbackImage(int Index, string Source, string Reason)
{
    public override string ToString() => $"{Source}: {Reason}";
}

/// <summary>
/// What <see cref="NvJpegBatchDecoder.DecodeInto"/> did with a batch: how many images the hardware JPEG
/// decoder and nvJPEG's other decoders decoded into their rows, the images left to the CPU path (their rows
/// untouched), and the bad images (with <see cref="BadImagePolicy.Skip"/>; their rows zeroed).
/// </summary>
internal sealed record GpuDecodeResult(int HardwareDecoded, int OtherDecoded, IReadOnlyList<CpuFallbackImage> ForCpu, IReadOnlyList<BadImage> BadImages)
{
    public int Decoded => HardwareDecoded + OtherDecoded;
}

/// <summary>How an <see cref="NvJpegBatchDecoder"/> decodes.</summary>
internal sealed record NvJpegDecoderOptions
{
    /// <summary>The options for what <paramref name="decoding"/> asks for on this machine, on <paramref name="threads"/> (null: every core).</summary>
    public static NvJpegDecoderOptions For(GpuJpegDecoding decoding, int? threads) => new()
    {
        HostThreads = threads ?? Environment.ProcessorCount,
        UseHardwareDecoder = decoding switch
        {
            GpuJpegDecoding.HardwareEngine => true,
            GpuJpegDecoding.Hybrid => false,
            _ => Environment.ProcessorCount < ImageInputOptions.HybridMinCores,
        },
    };

    /// <summary>
    /// Use the GPU's hardware JPEG decoder where it has one (A100, H100, H200 and later) for the baseline JPEGs it
    /// takes; false: the hybrid decoder (<see cref="NvJpegDecoupledDecoder"/>) for every image.
    /// </summary>
    public bool UseHardwareDecoder { get; init; } = true;

    /// <summary>
    /// Ask nvJPEG (12 and later) to upsample chroma by interpolation, as libjpeg (and so PIL and the CPU path)
    /// does, instead of replicating it. Where the library or the hardware backend refuses the flag, decoding
    /// goes on without it (<see cref="NvJpegBatchDecoder.Setup"/> says so).
    /// </summary>
    public bool InterpolatedChromaUpsampling { get; init; }

    /// <summary>
    /// Host threads nvJPEG's decoupled decoder works on at most: Huffman decoding on the CPU, the rest on the
    /// GPU. It decodes every image when the hardware decoder is not used, and otherwise the images the hardware
    /// decoder does not take (progressive ones, ...). Default: the machine's cores.
    /// </summary>
    public int HostThreads { get; init; } = Environment.ProcessorCount;

    /// <summary>The most decoded pixel bytes held at once; a batch whose images decode to more is done in parts. Default 1 GiB.</summary>
    public long MaxDecodedBytes { get; init; } = 1L << 30;
}
