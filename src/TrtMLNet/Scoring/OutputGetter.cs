using System.Runtime.InteropServices;
using Microsoft.ML;
using Microsoft.ML.Data;
using TrtMLNet.Backends;

namespace TrtMLNet.Scoring;

/// <summary>Serves an output column's value for the current row straight from the batch's staging memory.</summary>
internal static class OutputGetter
{
    /// <summary><paramref name="row"/> gives the current row's bytes of this output in staging.</summary>
    public static Delegate Create(OutputShape output, RowBytes row) => output.Tensor.ElementType switch
    {
        TensorElementType.Float32 => Make<float>(row),
        TensorElementType.Float64 => Make<double>(row),
        TensorElementType.Int32 => Make<int>(row),
        TensorElementType.Int64 => Make<long>(row),
        TensorElementType.Bool => Make<bool>(row),
        TensorElementType.UInt8 => Make<byte>(row),
        TensorElementType.Float16 or TensorElementType.BFloat16 => MakeFromHalf(row, output.Tensor.ElementType),
        _ => throw new NotSupportedException($"Output {output.Tensor} cannot become an ML.NET column."),
    };

    private static ValueGetter<VBuffer<T>> Make<T>(RowBytes row)
        where T : unmanaged =>
        (ref VBuffer<T> value) =>
        {
            var source = MemoryMarshal.Cast<byte, T>(row());
            var editor = VBufferEditor.Create(ref value, source.Length);
            source.CopyTo(editor.Values);
            value = editor.Commit();
        };

    private static ValueGetter<VBuffer<float>> MakeFromHalf(RowBytes row, TensorElementType type) =>
        (ref VBuffer<float> value) =>
        {
            var source = row();
            var editor = VBufferEditor.Create(ref value, source.Length / 2);
            HalfPrecision.ToSingle(source, editor.Values, type);
            value = editor.Commit();
        };
}

/// <summary>The current row's slice of a staging buffer.</summary>
internal delegate Span<byte> RowBytes();
