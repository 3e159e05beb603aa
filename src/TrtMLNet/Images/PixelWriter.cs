using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TrtMLNet.Images;

/// <summary>
/// Writes resampled RGBA pixels into one image's slot of a batch, in the tensor's layout, channel order and
/// element type. A pixel has 256 values, so every <c>pixel * Scale[c] + Bias[c]</c> (computed in float, then
/// converted to float16 where asked) is looked up in a table made once: one load per element, faster than
/// computing it, and bit for bit the same value every time.
/// </summary>
internal sealed class PixelWriter
{
    private const int PixelBytes = 4;

    private readonly ImageTensorLayout _layout;
    private readonly float[] _floats = new float[ImageTensorLayout.Channels * 256];
    private readonly Half[] _halves = new Half[ImageTensorLayout.Channels * 256];
    private readonly byte[] _bytes = new byte[ImageTensorLayout.Channels * 256];

    // Which byte of an RGBA pixel tensor channel c takes.
    private readonly int[] _sourceChannel;

    public PixelWriter(ImageTensorLayout layout)
    {
        _layout = layout;
        _sourceChannel = layout.ChannelOrder == ImageChannelOrder.Bgr ? [2, 1, 0] : [0, 1, 2];
        for (int c = 0; c < ImageTensorLayout.Channels; c++)
        {
            for (int p = 0; p < 256; p++)
            {
                float value = p * layout.Scale[c] + layout.Bias[c];
                _floats[c * 256 + p] = value;
                _halves[c * 256 + p] = (Half)value;
                _bytes[c * 256 + p] = (byte)p;
            }
        }
    }

    /// <summary>
    /// Writes <paramref name="rgba"/> (Width x Height pixels of 4 bytes, rows packed) into
    /// <paramref name="destination"/>, which is exactly one image's <see cref="ImageTensorLayout.RowBytes"/>.
    /// </summary>
    public void Write(ReadOnlySpan<byte> rgba, Span<byte> destination)
    {
        int pixels = _layout.Width * _layout.Height;
        if (rgba.Length < pixels * PixelBytes)
            throw new ArgumentException("The pixels are fewer than the image has.", nameof(rgba));
        if (destination.Length != _layout.RowBytes)
            throw new ArgumentException($"An image of '{_layout.TensorName}' takes {_layout.RowBytes} bytes; the destination has {destination.Length}.", nameof(destination));
        switch (_layout.ElementType)
        {
            case ImageElementType.Float32:
                Write(rgba, MemoryMarshal.Cast<byte, float>(destination), _floats, pixels);
                break;
            case ImageElementType.Float16:
                Write(rgba, MemoryMarshal.Cast<byte, Half>(destination), _halves, pixels);
                break;
            default:
                Write(rgba, destination, _bytes, pixels);
                break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first image: no slow first tier
    private void Write<T>(ReadOnlySpan<byte> rgba, Span<T> destination, T[] table, int pixels) where T : unmanaged
    {
        // The length checks in Write make every unchecked access below land inside the spans.
        ref byte src = ref MemoryMarshal.GetReference(rgba);
        ref T dst = ref MemoryMarshal.GetReference(destination);
        for (int c = 0; c < ImageTensorLayout.Channels; c++)
        {
            ref T lut = ref table[c * 256];
            ref byte channel = ref Unsafe.Add(ref src, _sourceChannel[c]);
            if (_layout.Layout == ImageLayout.Nchw)
            {
                ref T plane = ref Unsafe.Add(ref dst, c * pixels);
                for (int i = 0; i < pixels; i++)
                    Unsafe.Add(ref plane, i) = Unsafe.Add(ref lut, Unsafe.Add(ref channel, i * PixelBytes));
            }
            else
            {
                ref T first = ref Unsafe.Add(ref dst, c);
                for (int i = 0; i < pixels; i++)
                    Unsafe.Add(ref first, i * ImageTensorLayout.Channels) = Unsafe.Add(ref lut, Unsafe.Add(ref channel, i * PixelBytes));
            }
        }
    }
}
