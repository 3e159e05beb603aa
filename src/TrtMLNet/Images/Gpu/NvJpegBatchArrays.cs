using System.Runtime.InteropServices;
using TrtMLNet.Native.NvJpeg;

namespace TrtMLNet.Images.Gpu;

/// <summary>
/// The host arrays nvjpegDecodeBatched reads (each image's bytes and length, and where it goes), in native
/// memory so they stay put while a batch runs; grown to the largest batch seen, freed on Dispose.
/// </summary>
internal sealed unsafe class NvJpegBatchArrays : IDisposable
{
    private int _capacity;

    public byte** Data { get; private set; }

    public nuint* Lengths { get; private set; }

    public NvJpegImage* Destinations { get; private set; }

    /// <summary>Puts image i and destination i at index i (the caller has waited for the batch that last read them).</summary>
    public void Fill(IReadOnlyList<EncodedImage> images, IReadOnlyList<NvJpegImage> destinations)
    {
        int n = images.Count;
        if (_capacity < n)
        {
            Free();
            Data = (byte**)NativeMemory.Alloc((nuint)n, (nuint)sizeof(byte*));
            Lengths = (nuint*)NativeMemory.Alloc((nuint)n, (nuint)sizeof(nuint));
            Destinations = (NvJpegImage*)NativeMemory.Alloc((nuint)n, (nuint)sizeof(NvJpegImage));
            _capacity = n;
        }
        for (int i = 0; i < n; i++)
        {
            Data[i] = (byte*)images[i].Data;
            Lengths[i] = (nuint)images[i].Length;
            Destinations[i] = destinations[i];
        }
    }

    private void Free()
    {
        NativeMemory.Free(Data);
        NativeMemory.Free(Lengths);
        NativeMemory.Free(Destinations);
        Data = null;
        Lengths = null;
        Destinations = null;
        _capacity = 0;
    }

    public void Dispose() => Free();
}
