using System.Globalization;
using System.Numerics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Parquet;
using Parquet.Data;

namespace BatchScoring.InputSources;

/// <summary>One column's values for the current row group, and getters over them.</summary>
internal abstract class ParquetColumnLoader
{
    public abstract string Name { get; }

    public abstract void Load(ParquetRowGroupReader group, int rows, RowGroupIssues issues);

    public abstract Delegate Getter(Func<int> currentRow);

    public static ParquetColumnLoader ForTensor(ParquetTensorSource source)
    {
        var t = source.Tensor.ElementType;
        if (t == typeof(float)) return new ParquetTensorLoader<float>(source);
        if (t == typeof(double)) return new ParquetTensorLoader<double>(source);
        if (t == typeof(long)) return new ParquetTensorLoader<long>(source);
        if (t == typeof(int)) return new ParquetTensorLoader<int>(source);
        if (t == typeof(byte)) return new ParquetTensorLoader<byte>(source);
        return new ParquetBoolLoader(source);
    }
}

/// <summary>
/// A model input's values for a row group, row-major, converted to the tensor's element type. Nulls
/// and NaN feed float inputs as NaN and are counted; in other inputs a null, and anywhere a list of
/// the wrong length, makes the row bad.
/// </summary>
internal sealed class ParquetTensorLoader<T>(ParquetTensorSource source) : ParquetColumnLoader where T : unmanaged, INumberBase<T>
{
    private static readonly bool s_isFloat = typeof(T) == typeof(float) || typeof(T) == typeof(double);
    private T[] _values = [];

    public override string Name => source.Tensor.Name;

    public T[] Values => _values;

    public int RowSize => source.RowSize;

    public bool IsScalar => source.RowSize == 1 && !source.FromList;

    public override void Load(ParquetRowGroupReader group, int rows, RowGroupIssues issues)
    {
        var needed = rows * source.RowSize;
        if (_values.Length < needed)
            _values = new T[needed];
        for (var f = 0; f < source.Fields.Count; f++)
        {
            var field = source.Fields[f];
            using var raw = group.ReadRawColumnDataBaseAsync(field).AsTask().GetAwaiter().GetResult();
            var context = new FillContext(field.Path.ToString(), field.MaxDefinitionLevel, field.IsNullable, rows, issues);
            switch (raw)
            {
                case RawColumnData<float> r: Fill<float>(r.Values, raw, context, f); break;
                case RawColumnData<double> r: Fill<double>(r.Values, raw, context, f); break;
                case RawColumnData<Half> r: Fill<Half>(r.Values, raw, context, f); break;
                case RawColumnData<int> r: Fill<int>(r.Values, raw, context, f); break;
                case RawColumnData<long> r: Fill<long>(r.Values, raw, context, f); break;
                case RawColumnData<short> r: Fill<short>(r.Values, raw, context, f); break;
                case RawColumnData<byte> r: Fill<byte>(r.Values, raw, context, f); break;
                case RawColumnData<sbyte> r: Fill<sbyte>(r.Values, raw, context, f); break;
                case RawColumnData<ushort> r: Fill<ushort>(r.Values, raw, context, f); break;
                case RawColumnData<uint> r: Fill<uint>(r.Values, raw, context, f); break;
                case RawColumnData<ulong> r: Fill<ulong>(r.Values, raw, context, f); break;
                case RawColumnData<bool> r:
                    var bytes = new byte[r.Values.Length];
                    for (var i = 0; i < bytes.Length; i++) bytes[i] = r.Values[i] ? (byte)1 : (byte)0;
                    Fill<byte>(bytes, raw, context, f);
                    break;
                default:
                    throw new UsageException($"Column '{field.Name}' holds {field.ClrType.Name}, which cannot feed the model's input {source.Tensor}.");
            }
        }
    }

    private readonly record struct FillContext(string Column, int MaxDefinition, bool NullableElements, int Rows, RowGroupIssues Issues);

    /// <summary>
    /// Copies one file column into the row-major buffer: a list fills whole rows, a plain column one
    /// slot of each row. Values come compacted (nulls left out); definition levels say where the nulls were.
    /// </summary>
    private void Fill<TSource>(ReadOnlySpan<TSource> values, RawColumnData raw, FillContext c, int slot) where TSource : INumberBase<TSource>
    {
        var definitions = c.MaxDefinition > 0 ? raw.DefinitionLevels : default;
        var rowSize = source.RowSize;
        var v = 0;
        if (!source.FromList)
        {
            for (var row = 0; row < c.Rows; row++)
                _values[row * rowSize + slot] = c.MaxDefinition > 0 && definitions[row] < c.MaxDefinition ? Missing(c, row, "a null") : Value(values[v++], c, row);
            return;
        }

        var repetitions = raw.RepetitionLevels;
        // A level one below the maximum is a null element when elements may be null; lower still, an empty or null list.
        var nullElement = c.NullableElements ? c.MaxDefinition - 1 : -1;
        int rowIndex = -1, count = 0;
        for (var i = 0; i < repetitions.Length; i++)
        {
            if (repetitions[i] == 0)
            {
                if (rowIndex >= 0) CheckCount(c, rowIndex, count);
                rowIndex++;
                count = 0;
            }
            var d = c.MaxDefinition > 0 ? definitions[i] : 0;
            if (d == c.MaxDefinition || d == nullElement)
            {
                if (count < rowSize)
                    _values[rowIndex * rowSize + count] = d == c.MaxDefinition ? Value(values[v++], c, rowIndex) : Missing(c, rowIndex, "a null element");
                else if (d == c.MaxDefinition)
                    v++;
                count++;
            }
        }
        if (rowIndex >= 0) CheckCount(c, rowIndex, count);
    }

    private T Value<TSource>(TSource value, FillContext c, int row) where TSource : INumberBase<TSource>
    {
        if (TSource.IsNaN(value))
            return Missing(c, row, "NaN");
        return T.CreateSaturating(value);
    }

    private void CheckCount(FillContext c, int row, int count)
    {
        if (count != source.RowSize)
            c.Issues.MarkBad(row, c.Column, null, $"the list holds {count} values, but the model's input {source.Tensor} takes {source.RowSize} per row");
    }

    private T Missing(FillContext c, int row, string what)
    {
        if (s_isFloat)
        {
            c.Issues.Missing[row]++;
            return T.CreateSaturating(double.NaN);
        }
        c.Issues.MarkBad(row, c.Column, null, $"{what}, and the model's input {source.Tensor} has no missing value for {source.Tensor.TypeName}");
        return T.Zero;
    }

    public override Delegate Getter(Func<int> currentRow)
    {
        if (IsScalar)
            return (ValueGetter<T>)((ref T value) => value = _values[currentRow()]);
        return (ValueGetter<VBuffer<T>>)((ref VBuffer<T> value) =>
        {
            var editor = VBufferEditor.Create(ref value, RowSize);
            _values.AsSpan(currentRow() * RowSize, RowSize).CopyTo(editor.Values);
            value = editor.Commit();
        });
    }
}

/// <summary>bool is no number type: its values load as bytes and are served as bools.</summary>
internal sealed class ParquetBoolLoader(ParquetTensorSource source) : ParquetColumnLoader
{
    private readonly ParquetTensorLoader<byte> _bytes = new(source);

    public override string Name => source.Tensor.Name;

    public override void Load(ParquetRowGroupReader group, int rows, RowGroupIssues issues) => _bytes.Load(group, rows, issues);

    public override Delegate Getter(Func<int> currentRow)
    {
        var size = _bytes.RowSize;
        if (_bytes.IsScalar)
            return (ValueGetter<bool>)((ref bool value) => value = _bytes.Values[currentRow()] != 0);
        return (ValueGetter<VBuffer<bool>>)((ref VBuffer<bool> value) =>
        {
            var editor = VBufferEditor.Create(ref value, size);
            var start = currentRow() * size;
            for (var i = 0; i < size; i++)
                editor.Values[i] = _bytes.Values[start + i] != 0;
            value = editor.Commit();
        });
    }
}

/// <summary>The id column, as text whatever its type: it is only carried to the output.</summary>
internal sealed class ParquetIdLoader(ParquetIdSource source) : ParquetColumnLoader
{
    private string?[] _values = [];

    public override string Name => source.Name;

    public override void Load(ParquetRowGroupReader group, int rows, RowGroupIssues issues)
    {
        if (ParquetInput.IsText(source.Field))
        {
            _values = new string?[rows];
            group.ReadAsync(source.Field, _values.AsMemory()).AsTask().GetAwaiter().GetResult();
            return;
        }
        using var raw = group.ReadRawColumnDataBaseAsync(source.Field).AsTask().GetAwaiter().GetResult();
        var nullable = source.Field.IsNullable;
        _values = raw switch
        {
            RawColumnData<long> r => Format(r, rows, nullable),
            RawColumnData<int> r => Format(r, rows, nullable),
            RawColumnData<short> r => Format(r, rows, nullable),
            RawColumnData<ulong> r => Format(r, rows, nullable),
            RawColumnData<uint> r => Format(r, rows, nullable),
            RawColumnData<double> r => Format(r, rows, nullable),
            RawColumnData<float> r => Format(r, rows, nullable),
            RawColumnData<bool> r => Format(r, rows, nullable),
            RawColumnData<DateTime> r => Format(r, rows, nullable),
            RawColumnData<Guid> r => Format(r, rows, nullable),
            _ => throw new UsageException($"The id column '{source.Name}' holds {source.Field.ClrType.Name}, which this job cannot carry; pick another with --id-column."),
        };
    }

    // NullableValues throws for a column that cannot hold nulls; Values is compacted for one that can.
    private static string?[] Format<TValue>(RawColumnData<TValue> raw, int rows, bool nullable) where TValue : struct =>
        (nullable ? raw.NullableValues.Take(rows).ToArray() : raw.Values[..rows].ToArray().Select(v => (TValue?)v).ToArray())
        .Select(v => v is IFormattable f ? f.ToString(null, CultureInfo.InvariantCulture) : v?.ToString()).ToArray();

    public override Delegate Getter(Func<int> currentRow) =>
        (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> value) => value = (_values[currentRow()] ?? "").AsMemory());
}
