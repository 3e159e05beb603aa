using TrtMLNet.Native.Cuda;

namespace TrtMLNet.Images.Gpu;

/// <summary>
/// The CUDA context nvJPEG's hardware decoder runs in: one of TrtMLNet's own per GPU, beside the primary
/// context the engines run in, shared by every lane's decoder and destroyed when the last one lets go.
/// Why: nvjpegDecodeBatched on the hardware backend waits, inside the call, until all work queued in its
/// context is done, on every stream (measured on the H200 with nvJPEG 13: 204 ms with 202 ms of kernels queued on
/// another stream, 2.5 ms alone; no allocation or free in the call, and nvjpegDecodeBatchedInitialize does not
/// wait). In the primary context a lane's decode therefore waited for the other lane's engine, and decoding and
/// inference took turns. In a context of its own the call waits only for other decodes; its pixels then cross
/// into the primary context by a device-to-device copy on the lane's stream (the copy engines run it beside
/// the kernels). The cost: the context's own device memory, and the GPU time-slicing between the two contexts
/// while the decoder has kernels to run.
/// </summary>
internal static class HardwareDecodeContext
{
    private static readonly Dictionary<int, (CudaDevice Context, int Users)> s_contexts = [];

    /// <summary>The GPU of <paramref name="primary"/> through the decoders' own context, made if no decoder holds it.</summary>
    public static CudaDevice Acquire(CudaDevice primary)
    {
        lock (s_contexts)
        {
            if (!s_contexts.TryGetValue(primary.Ordinal, out var entry))
                entry = (primary.CreateOwnContext(), 0);
            s_contexts[primary.Ordinal] = (entry.Context, entry.Users + 1);
            return entry.Context;
        }
    }

    /// <summary>Lets go of a context from <see cref="Acquire"/>; the last user destroys it, so everything made in it must be freed first.</summary>
    public static void Release(CudaDevice context)
    {
        lock (s_contexts)
        {
            var (held, users) = s_contexts[context.Ordinal];
            if (users > 1)
            {
                s_contexts[context.Ordinal] = (held, users - 1);
                return;
            }
            s_contexts.Remove(context.Ordinal);
            held.DestroyOwnContext();
        }
    }
}
