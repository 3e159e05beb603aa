using System.Runtime.InteropServices;

namespace TrtMLNet.Native.TensorRt;

/// <summary>
/// Bytes TensorRT produced (trts_host_memory): a serialized plan or timing cache. They stay in native
/// memory until copied out, since plans of large models run to gigabytes.
/// </summary>
internal sealed class ShimHostMemoryHandle : ShimHandle
{
    /// <summary>Copies a chunk at a time so that plans over 2 GiB stream out without one giant array.</summary>
    private const int CopyChunkBytes = 1 << 20;

    internal ShimHostMemoryHandle(IntPtr memory) => SetHandle(memory);

    public long Size => checked((long)ShimNative.trts_host_memory_size(this));

    /// <summary>The bytes as one array; for plans that may exceed an array's limit use <see cref="CopyTo"/>.</summary>
    public byte[] ToArray()
    {
        var size = Size;
        if (size > Array.MaxLength)
            throw new InvalidOperationException($"{size} bytes do not fit in one array; write them to a stream with CopyTo.");
        var bytes = new byte[size];
        using (var stream = new MemoryStream(bytes, writable: true))
            CopyTo(stream);
        return bytes;
    }

    public unsafe void CopyTo(Stream destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var added = false;
        try
        {
            // Keeps the native memory alive while raw pointers into it are in use.
            DangerousAddRef(ref added);
            var data = (byte*)ShimNative.trts_host_memory_data(this);
            var size = Size;
            for (long offset = 0; offset < size; offset += CopyChunkBytes)
                destination.Write(new ReadOnlySpan<byte>(data + offset, (int)Math.Min(CopyChunkBytes, size - offset)));
        }
        finally
        {
            if (added)
                DangerousRelease();
        }
    }

    protected override bool ReleaseHandle()
    {
        ShimNative.trts_host_memory_release(handle);
        return true;
    }
}
