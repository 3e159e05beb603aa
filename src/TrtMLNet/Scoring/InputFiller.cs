using System.Runtime.InteropServices;
using Microsoft.ML;
using Microsoft.ML.Data;
using TrtMLNet.Backends;

namespace TrtMLNet.Scoring;

/// <summary>
/// Copies one column's value for the current row into a tensor's staging memory, at that row's place
/// in the batch. One per input column per cursor: it holds the cursor's getter.
/// </summary>
internal abstract class InputFiller
{
    public static InputFiller Create(DataViewRow row, InputShape input)
    {
        var column = row.Schema[input.Column];
        var vector = column.Type is VectorDataViewType;
        return input.Tensor.ElementType switch
        {
            TensorElementType.Float32 => Make<float>(row, column, input, vector),
            TensorElementType.Float64 => Make<double>(row, column, input, vector),
            TensorElementType.Int32 => Make<int>(row, column, input, vector),
            TensorElementType.Int64 => Make<long>(row, column, input, vector),
            TensorElementType.Bool => Make<bool>(row, column, input, vector),
            TensorElementType.UInt8 => Make<byte>(row, column, input, vector),
            _ => throw new NotSupportedException($"Input {input.Tensor} cannot be fed from ML.NET."),
        };
    }

    private static InputFiller Make<T>(DataViewRow row, DataViewSchema.Column column, InputShape input, bool vector)
        where T : unmanaged =>
        vector ? new VectorFiller<T>(row.GetGetter<VBuffer<T>>(column), input) : new ScalarFiller<T>(row.GetGetter<T>(column));

    /// <summary>Writes the current row's value to <paramref name="destination"/> (the row's slot, in bytes).</summary>
    public abstract void Fill(Span<byte> destination, long position);

    private sealed class ScalarFiller<T>(ValueGetter<T> getter) : InputFiller
        where T : unmanaged
    {
        private T _value;

        public override void Fill(Span<byte> destination, long position)
        {
            getter(ref _value);
            MemoryMarshal.Write(destination, in _value);
        }
    }

    private sealed class VectorFiller<T>(ValueGetter<VBuffer<T>> getter, InputShape input) : InputFiller
        where T : unmanaged
    {
        private VBuffer<T> _value;

        public override void Fill(Span<byte> destination, long position)
        {
            getter(ref _value);
            var target = MemoryMarshal.Cast<byte, T>(destination);
            if (_value.Length != target.Length)
                throw new InvalidOperationException(
                    $"Row {position}: column '{input.Column}' has {_value.Length} values, but the model's input {input.Tensor} takes {target.Length} per row.");
            if (_value.IsDense)
            {
                _value.GetValues().CopyTo(target);
                return;
            }
            target.Clear();
            var values = _value.GetValues();
            var indices = _value.GetIndices();
            for (var i = 0; i < values.Length; i++)
                target[indices[i]] = values[i];
        }
    }
}
