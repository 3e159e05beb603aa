namespace TrtMLNet.Images;

/// <summary>
/// One thread's reusable buffers for decoding: the decoded pixels, the resampler's intermediate and output,
/// and a file's bytes. Decoding runs one image per thread at a time, so a thread's buffers are never shared;
/// they grow to the largest image the thread has seen, up to <see cref="KeepLimit"/>, above which a buffer
/// is allocated for that image alone (so a single huge image does not pin its memory for good).
/// </summary>
internal sealed class DecodeScratch
{
    /// <summary>
    /// The largest buffer a thread keeps between images: a 2048 x 2048 RGBA image (16 MiB). Every decoding
    /// thread keeps its own, so this bounds what idle threads hold; larger photos are mostly decoded
    /// reduced, and the rest pay one allocation each, small beside their decode.
    /// </summary>
    public const int KeepLimit = 2048 * 2048 * 4;

    [ThreadStatic]
    private static DecodeScratch? t_current;

    private byte[] _pixels = [];
    private byte[] _intermediate = [];
    private byte[] _resampled = [];
    private byte[] _file = [];

    /// <summary>The resampling plan last used on this thread, and what it was made for: images of one size come in runs.</summary>
    public (PlanKey Key, ResamplePlan Plan)? LastPlan { get; set; }

    public static DecodeScratch ForThisThread => t_current ??= new DecodeScratch();

    public byte[] Pixels(int bytes) => Grow(ref _pixels, bytes);

    public byte[] Intermediate(int bytes) => Grow(ref _intermediate, bytes);

    public byte[] Resampled(int bytes) => Grow(ref _resampled, bytes);

    public byte[] File(int bytes) => Grow(ref _file, bytes);

    private static byte[] Grow(ref byte[] buffer, int bytes)
    {
        if (buffer.Length >= bytes)
            return buffer;
        var grown = GC.AllocateUninitializedArray<byte>(Math.Max(bytes, Math.Min(2 * buffer.Length, KeepLimit)));
        if (bytes <= KeepLimit)
            buffer = grown;
        return grown;
    }
}

/// <summary>What a resampling plan depends on: the decoded size and the geometry.</summary>
internal readonly record struct PlanKey(int DecodedWidth, int DecodedHeight, ImageGeometry Geometry);
