using System.Runtime.InteropServices;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace TrtMLNet.Scoring;

/// <summary>
/// Feeds an input whose rows are large (an image tensor of floats, say) so that filling a batch does not
/// bind to one core: the cursor's thread only calls the column's getter, into a buffer of each row's
/// own, and the copies into pinned staging then run on every core at the end of the batch. It costs
/// one batch of the column in managed memory, kept between cursors by the model's <see cref="RowBufferPool"/>.
/// A source row that lends its arrays (<see cref="IRowArrayLender"/>) skips the getter's copy: its arrays
/// are copied into staging as they are.
/// </summary>
internal abstract class LargeRowFiller : InputFiller
{
    /// <summary>Rows from this size (256 KiB) on: a copy per row costs tens of microseconds, worth spreading.</summary>
    public const long MinRowBytes = 256 * 1024;

    public static InputFiller Create(FittedModel model, int input, DataViewRow row)
    {
        var shape = model.Shapes.Inputs[input];
        var column = row.Schema[shape.Column];
        var lender = row as IRowArrayLender;
        return shape.Tensor.ElementType switch
        {
            TensorElementType.Float32 => new Of<float>(model, input, row.GetGetter<VBuffer<float>>(column), lender, column),
            TensorElementType.Float64 => new Of<double>(model, input, row.GetGetter<VBuffer<double>>(column), lender, column),
            TensorElementType.Int32 => new Of<int>(model, input, row.GetGetter<VBuffer<int>>(column), lender, column),
            TensorElementType.Int64 => new Of<long>(model, input, row.GetGetter<VBuffer<long>>(column), lender, column),
            TensorElementType.UInt8 => new Of<byte>(model, input, row.GetGetter<VBuffer<byte>>(column), lender, column),
            TensorElementType.Bool => new Of<bool>(model, input, row.GetGetter<VBuffer<bool>>(column), lender, column),
            _ => throw new NotSupportedException($"Input {shape.Tensor} cannot be fed from ML.NET."),
        };
    }

    private sealed class Of<T>(FittedModel model, int input, ValueGetter<VBuffer<T>> getter, IRowArrayLender? lender, DataViewSchema.Column column)
        : LargeRowFiller
        where T : unmanaged
    {
        private readonly InputShape _shape = model.Shapes.Inputs[input];
        private readonly VBuffer<T>[] _rows = new VBuffer<T>[model.Shapes.BatchSize];

        // The arrays this filler owns. A source may lend its own array in place of one (a getter may), so each
        // row is handed an owned array again before every read: a lent array is never written.
        private readonly T[]?[] _owned = model.RowBuffers.Rent<T>(input, model.Shapes.BatchSize);

        public override void Fill(Span<byte> destination, int row, long position)
        {
            // A lent array of the wrong length goes through the getter, which reports the row as any other.
            if (lender is not null && lender.TryLend<T>(column, out var lent) && lent.Length == _shape.RowElements)
            {
                _rows[row] = new VBuffer<T>(lent.Length, lent);
                return;
            }
            _rows[row] = new VBuffer<T>((int)_shape.RowElements, _owned[row] ??= new T[_shape.RowElements]);
            getter(ref _rows[row]);
            if (_rows[row].Length != _shape.RowElements)
                throw new InvalidOperationException(
                    $"Row {position}: column '{_shape.Column}' has {_rows[row].Length} values, but the model's input {_shape.Tensor} takes {_shape.RowElements} per row.");
        }

        public override unsafe void FinishBatch(BatchSlot slot, int rows)
        {
            var start = (byte*)slot.Job.Staging!.Pointer + model.Layout.InputOffsets[input];
            var rowBytes = (int)_shape.RowBytes;
            Parallel.For(0, rows, r =>
            {
                var target = MemoryMarshal.Cast<byte, T>(new Span<byte>(start + (long)r * rowBytes, rowBytes));
                _rows[r].CopyTo(target);
            });
        }

        public override void Dispose()
        {
            Array.Clear(_rows);
            model.RowBuffers.Return(input, _owned);
        }
    }
}
