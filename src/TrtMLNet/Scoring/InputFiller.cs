using System.Runtime.InteropServices;
using Microsoft.ML;
using Microsoft.ML.Data;
using TrtMLNet.Backends;

namespace TrtMLNet.Scoring;

/// <summary>
/// Copies one column's value for the current row into a tensor's staging memory, at that row's place
/// in the batch. One per input column per cursor: it holds the cursor's getter. Image inputs only note
/// their rows and decode the whole batch at its end (<see cref="FinishBatch"/>).
/// </summary>
internal abstract class InputFiller : IDisposable
{
    /// <param name="model">The fitted model.</param>
    /// <param name="input">Which of its inputs.</param>
    /// <param name="row">The cursor's row.</param>
    /// <param name="slots">Staging slots the cursor rotates through.</param>
    public static InputFiller Create(FittedModel model, int input, DataViewRow row, int slots)
    {
        var shape = model.Shapes.Inputs[input];
        if (model.ImageInputs.TryGetValue(input, out var image))
        {
            var source = new ImageColumn(row, shape);
            return image.Gpu is null
                ? new CpuImageFiller(image, model, input, source)
                : new GpuImageFiller(image, model.Runtime.Pool.Device, input, source, slots);
        }
        if (shape.RowBytes >= LargeRowFiller.MinRowBytes && row.Schema[shape.Column].Type is VectorDataViewType
            && shape.Tensor.ElementType is not (TensorElementType.Float16 or TensorElementType.BFloat16))
            return LargeRowFiller.Create(model, input, row);
        return Create(row, shape);
    }

    private static InputFiller Create(DataViewRow row, InputShape input)
    {
        var column = row.Schema[input.Column];
        var vector = column.Type is VectorDataViewType;
        return input.Tensor.ElementType switch
        {
            TensorElementType.Float16 or TensorElementType.BFloat16 => new HalfFiller(row, column, input, vector),
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

    /// <summary>Writes the current row's value to <paramref name="destination"/> (row <paramref name="row"/> of the batch, in bytes).</summary>
    public abstract void Fill(Span<byte> destination, int row, long position);

    /// <summary>Before the first row of a batch in <paramref name="slot"/>.</summary>
    public virtual void BeginBatch(BatchSlot slot) { }

    /// <summary>After the last row of a batch, before it is sent to the device.</summary>
    public virtual void FinishBatch(BatchSlot slot, int rows) { }

    public virtual void Dispose() { }

    private sealed class ScalarFiller<T>(ValueGetter<T> getter) : InputFiller
        where T : unmanaged
    {
        private T _value;

        public override void Fill(Span<byte> destination, int row, long position)
        {
            getter(ref _value);
            MemoryMarshal.Write(destination, in _value);
        }
    }

    private sealed class VectorFiller<T>(ValueGetter<VBuffer<T>> getter, InputShape input) : InputFiller
        where T : unmanaged
    {
        private VBuffer<T> _value;

        public override void Fill(Span<byte> destination, int row, long position)
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

    /// <summary>A float16 or bfloat16 tensor fed from a float column, converted as it is written to staging.</summary>
    private sealed class HalfFiller : InputFiller
    {
        private readonly ValueGetter<VBuffer<float>>? _vector;
        private readonly ValueGetter<float>? _scalar;
        private readonly InputShape _input;
        private VBuffer<float> _value;
        private float[] _dense = [];

        public HalfFiller(DataViewRow row, DataViewSchema.Column column, InputShape input, bool vector)
        {
            _input = input;
            if (vector) _vector = row.GetGetter<VBuffer<float>>(column);
            else _scalar = row.GetGetter<float>(column);
        }

        public override void Fill(Span<byte> destination, int row, long position)
        {
            if (_scalar is not null)
            {
                float value = 0;
                _scalar(ref value);
                HalfPrecision.FromSingle([value], destination, _input.Tensor.ElementType);
                return;
            }
            _vector!(ref _value);
            var expected = destination.Length / 2;
            if (_value.Length != expected)
                throw new InvalidOperationException(
                    $"Row {position}: column '{_input.Column}' has {_value.Length} values, but the model's input {_input.Tensor} takes {expected} per row.");
            ReadOnlySpan<float> values = _value.GetValues();
            if (!_value.IsDense)
            {
                if (_dense.Length != expected) _dense = new float[expected];
                _value.CopyTo(_dense);
                values = _dense;
            }
            HalfPrecision.FromSingle(values, destination, _input.Tensor.ElementType);
        }
    }
}
