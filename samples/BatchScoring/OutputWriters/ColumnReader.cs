using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace BatchScoring.OutputWriters;

/// <summary>
/// One column of the scored data as the writers see it: after <see cref="Fetch"/>, the current row's
/// values. Model outputs are vectors; pass-through columns are text or single numbers.
/// </summary>
public abstract class ColumnReader(string name)
{
    public string Name { get; } = name;

    /// <summary>Values every row has: 1 for a single value, 0 when it varies from row to row.</summary>
    public abstract int Size { get; }

    /// <summary>Whether the column is a vector (a list in Parquet); a vector of size 1 is still written as one value.</summary>
    public abstract bool IsVector { get; }

    /// <summary>Values in the current row.</summary>
    public abstract int Count { get; }

    public abstract void Fetch();

    /// <summary>Writes value <paramref name="index"/> of the current row as CSV text (invariant culture, no quoting).</summary>
    public abstract void WriteText(int index, TextWriter writer);

    public static ColumnReader Create(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        var item = column.Type is VectorDataViewType v ? v.ItemType : column.Type;
        if (item is TextDataViewType)
        {
            return column.Type is VectorDataViewType
                ? throw new UsageException($"Column '{column.Name}' is a vector of text, which this job does not write.")
                : new TextColumnReader(cursor, column);
        }
        return item.RawType switch
        {
            var t when t == typeof(float) => Numeric<float>(cursor, column),
            var t when t == typeof(double) => Numeric<double>(cursor, column),
            var t when t == typeof(long) => Numeric<long>(cursor, column),
            var t when t == typeof(int) => Numeric<int>(cursor, column),
            var t when t == typeof(byte) => Numeric<byte>(cursor, column),
            var t when t == typeof(bool) => Numeric<bool>(cursor, column),
            _ => throw new UsageException($"Column '{column.Name}' holds {column.Type}, which this job does not write."),
        };
    }

    private static ColumnReader Numeric<T>(DataViewRowCursor cursor, DataViewSchema.Column column) where T : unmanaged =>
        column.Type is VectorDataViewType vector ? new VectorColumnReader<T>(cursor, column, vector.Size) : new ScalarColumnReader<T>(cursor, column);
}

/// <summary>A column of numbers (or bools): its current values as a span.</summary>
public abstract class ColumnReader<T>(string name) : ColumnReader(name) where T : unmanaged
{
    public abstract ReadOnlySpan<T> Values { get; }

    public override int Count => Values.Length;

    public override void WriteText(int index, TextWriter writer) => writer.Write(Format(Values[index]));

    // Shortest text that reads back to the same value; typeof checks on T compile away per type.
    private static string Format(T value) =>
        typeof(T) == typeof(float) ? ((float)(object)value).ToString(CultureInfo.InvariantCulture)
        : typeof(T) == typeof(double) ? ((double)(object)value).ToString(CultureInfo.InvariantCulture)
        : typeof(T) == typeof(bool) ? ((bool)(object)value ? "true" : "false")
        : ((IFormattable)value).ToString(null, CultureInfo.InvariantCulture);
}

public sealed class VectorColumnReader<T>(DataViewRowCursor cursor, DataViewSchema.Column column, int size) : ColumnReader<T>(column.Name) where T : unmanaged
{
    private readonly ValueGetter<VBuffer<T>> _getter = cursor.GetGetter<VBuffer<T>>(column);
    private VBuffer<T> _buffer;
    private T[] _dense = [];
    private int _count;

    public override int Size => size;

    public override bool IsVector => true;

    public override ReadOnlySpan<T> Values => _buffer.IsDense ? _buffer.GetValues() : _dense.AsSpan(0, _count);

    public override void Fetch()
    {
        _getter(ref _buffer);
        if (_buffer.IsDense)
            return;
        // Outputs come dense; a sparse vector is spelled out so the writers see every slot.
        _count = _buffer.Length;
        if (_dense.Length < _count)
            _dense = new T[_count];
        _buffer.CopyTo(_dense);
    }
}

public sealed class ScalarColumnReader<T>(DataViewRowCursor cursor, DataViewSchema.Column column) : ColumnReader<T>(column.Name) where T : unmanaged
{
    private readonly ValueGetter<T> _getter = cursor.GetGetter<T>(column);
    private readonly T[] _value = new T[1];

    public override int Size => 1;

    public override bool IsVector => false;

    public override ReadOnlySpan<T> Values => _value;

    public override void Fetch() => _getter(ref _value[0]);
}

public sealed class TextColumnReader(DataViewRowCursor cursor, DataViewSchema.Column column) : ColumnReader(column.Name)
{
    private readonly ValueGetter<ReadOnlyMemory<char>> _getter = cursor.GetGetter<ReadOnlyMemory<char>>(column);
    private ReadOnlyMemory<char> _value;

    public override int Size => 1;

    public override bool IsVector => false;

    public override int Count => 1;

    public string Value => _value.ToString();

    public override void Fetch() => _getter(ref _value);

    public override void WriteText(int index, TextWriter writer)
    {
        var span = _value.Span;
        if (span.IndexOfAny(",;\t\"\r\n") < 0)
        {
            writer.Write(span);
            return;
        }
        writer.Write('"');
        writer.Write(span.ToString().Replace("\"", "\"\""));
        writer.Write('"');
    }
}
