using TrtMLNet.Native.NvJpeg;

namespace TrtMLNet.Images.Gpu;

/// <summary>
/// A batch on its way through an <see cref="NvJpegBatchDecoder"/>: its images, which of them nvJPEG takes (and
/// which of those batched), which go to the CPU path and which are bad, then where it is written. Made by
/// <see cref="NvJpegBatchDecoder.Prepare"/>, the host half, and decoded once by <see cref="NvJpegBatchDecoder.Decode"/>.
/// </summary>
internal sealed class GpuDecodeBatch(NvJpegBatchDecoder decoder, IReadOnlyList<EncodedImage> images, ImageTensorLayout layout, BadImagePolicy policy)
{
    private const int DecodedAlignment = 256;

    /// <summary>One accepted image: where it goes, its decoded size, and whether nvjpegDecodeBatched takes it.</summary>
    public readonly record struct AcceptedImage(int Index, int Width, int Height, bool Batched)
    {
        public long Pitch => Width * 3L;

        public long DecodedBytes => (Pitch * Height + DecodedAlignment - 1) / DecodedAlignment * DecodedAlignment;
    }

    /// <summary>The decoder that prepared the batch: only it decodes it.</summary>
    public NvJpegBatchDecoder Decoder { get; } = decoder;
    public IReadOnlyList<EncodedImage> Images { get; } = images;
    public ImageTensorLayout Layout { get; } = layout;
    public BadImagePolicy Policy { get; } = policy;
    /// <summary>The images nvJPEG decodes, from <see cref="Classify"/>.</summary>
    public List<AcceptedImage> Accepted { get; private set; } = [];
    /// <summary>Whether <see cref="NvJpegBatchDecoder.Decode"/> has run it: a batch is decoded once.</summary>
    public bool Decoded { get; set; }
    // Where it goes, set when it is decoded.
    public IntPtr Output { get; set; }
    public long RowBytes { get; set; }
    public IntPtr Stream { get; set; }
    public List<CpuFallbackImage> ForCpu { get; } = [];
    public List<BadImage> Bad { get; } = [];
    public int HardwareDecoded { get; set; }
    public int OtherDecoded { get; set; }

    public void Cpu(int index, string reason) => ForCpu.Add(new CpuFallbackImage(index, Images[index].Source, reason));

    /// <summary>Records a bad image, or throws naming it when bad images fail the batch.</summary>
    public void Reject(int index, ImageDecodeFailure failure, string reason, Exception? inner = null)
    {
        var image = Images[index];
        if (Policy == BadImagePolicy.Fail)
            throw new ImageDecodeException(image.Source, failure,
                reason + " To go on past bad images, set OnBadImage = Skip: their rows are then reported and their images zeroed.", inner);
        Bad.Add(new BadImage(index, image.Row >= 0 ? image.Row : index, image.Source, failure, reason));
    }

    /// <summary>Reads every image's headers: which go to nvJPEG (and which of those batched), which to the CPU, which are bad.</summary>
    public void Classify(NvJpegSession session)
    {
        var accepted = Accepted = new List<AcceptedImage>(Images.Count);
        for (int i = 0; i < Images.Count; i++)
        {
            var image = Images[i];
            if (image.Data == IntPtr.Zero || image.Length <= 0)
            {
                Reject(i, ImageDecodeFailure.Empty, "it is empty (0 bytes). Replace it with the image it should hold, or skip bad images (OnBadImage = Skip).");
                continue;
            }
            var header = JpegHeader.Read(image.Data, image.Length);
            switch (header.Verdict)
            {
                case JpegHeaderVerdict.Cpu:
                    Cpu(i, header.Reason!);
                    continue;
                case JpegHeaderVerdict.Truncated:
                    Reject(i, ImageDecodeFailure.Truncated, $"the JPEG {header.Reason} ({image.Length} bytes): the file is cut off, as by an interrupted download or " +
                        $"copy. Replace it with a complete copy.");
                    continue;
                case JpegHeaderVerdict.Corrupt:
                    Reject(i, ImageDecodeFailure.Corrupt, $"the JPEG is damaged: {header.Reason}. Re-export or re-download it.");
                    continue;
            }
            var status = session.GetImageInfo(image, out int width, out int height, out int components, out var subsampling);
            if (status != NvJpegStatus.Success)
            {
                Refuse(i, status, "nvjpegGetImageInfo");
                continue;
            }
            if (components is not (1 or 3) || subsampling == NvJpegChromaSubsampling.Unknown)
            {
                Cpu(i, $"nvJPEG reads it as {components} component(s) with {subsampling} chroma subsampling; the CPU decodes it as PIL does");
                continue;
            }
            if ((long)width * height > CpuImageDecoder.MaxDecodedPixels)
            {
                Reject(i, ImageDecodeFailure.Unsupported,
                    $"it is {width} x {height} pixels, more than the {CpuImageDecoder.MaxDecodedPixels / 1_000_000} million this decoder accepts for one image (Pillow's " +
                        $"decompression-bomb limit). Downscale it first.");
                continue;
            }
            // Without the hardware engine every image goes to the decoupled decoder on the host's threads: the
            // default backend's nvjpegDecodeBatched took 118 ms for 128 JPEGs on the H200, 14 threads 13.5 ms.
            bool batched = session.UsesHardwareDecoder && session.IsBatchedSupported(image, out bool supported) == NvJpegStatus.Success && supported;
            accepted.Add(new AcceptedImage(i, width, height, batched));
        }
    }

    /// <summary>
    /// An nvJPEG status about one image: what nvJPEG does not support or refuses goes to the CPU path, which
    /// decodes whatever libjpeg decodes; damage is a bad image; a failure of nvJPEG or the GPU itself throws.
    /// </summary>
    public void Refuse(int index, NvJpegStatus status, string call)
    {
        var error = NvJpegCheck.Failure(status, $"{call} on {Images[index].Source}");
        string what = $"{call} returned {error.StatusName} ({NvJpegException.Describe(status)})";
        switch (status)
        {
            case NvJpegStatus.JpegNotSupported or NvJpegStatus.ImplementationNotSupported or NvJpegStatus.ArchMismatch or NvJpegStatus.InvalidParameter:
                Cpu(index, $"nvJPEG does not decode it: {what}");
                break;
            case NvJpegStatus.IncompleteBitstream:
                Reject(index, ImageDecodeFailure.Truncated, $"the JPEG ends too early: {what}. The file is cut off; replace it with a complete copy.", error);
                break;
            case NvJpegStatus.BadJpeg:
                Reject(index, ImageDecodeFailure.Corrupt, $"the JPEG data is damaged: {what}. Re-export or re-download it.", error);
                break;
            default:
                throw error;
        }
    }
}
