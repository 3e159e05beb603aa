using System.Globalization;
using System.Text;

namespace BatchScoring.InputSources;

/// <summary>Splitting a CSV line into fields and reading a field as a tensor's element type, strictly.</summary>
public static class CsvFields
{
    /// <summary>Splits one line into fields; double quotes group a field (a doubled quote is one quote inside it).</summary>
    public static List<string> Split(string line, char separator)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == separator) { fields.Add(field.ToString()); field.Clear(); }
            else field.Append(c);
        }
        fields.Add(field.ToString());
        return fields;
    }

    /// <summary>The outcome of reading one cell: a value, a missing float (NaN), or why the cell cannot feed the input.</summary>
    public readonly record struct Cell<T>(T Value, bool Missing, string? Error);

    /// <summary>
    /// Reads a cell as <typeparamref name="T"/>. Floats take an empty cell or NaN as missing (NaN);
    /// integers and bools have no missing value, so an empty cell is an error, as is text that is not
    /// a number or a number out of the type's range.
    /// </summary>
    public static Cell<T> Read<T>(string text)
    {
        var s = text.AsSpan().Trim();
        if (typeof(T) == typeof(float) || typeof(T) == typeof(double))
        {
            if (s.IsEmpty || s.Equals("NaN", StringComparison.OrdinalIgnoreCase))
                return new Cell<T>(As<T>(double.NaN), true, null);
            if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
                return new Cell<T>(default!, false, "not a number");
            // .NET reads 1e999 as infinity; only a spelled-out infinity is one.
            var outOfRange = double.IsInfinity(d) ? !s.Contains("inf", StringComparison.OrdinalIgnoreCase)
                : typeof(T) == typeof(float) && Math.Abs(d) > float.MaxValue;
            if (outOfRange)
                return new Cell<T>(default!, false, $"out of the range of {(typeof(T) == typeof(float) ? "float" : "double")}");
            return new Cell<T>(As<T>(d), false, null);
        }
        if (s.IsEmpty)
            return new Cell<T>(default!, false, $"empty, and an integer or bool input has no missing value");
        if (typeof(T) == typeof(bool))
        {
            if (s.Equals("true", StringComparison.OrdinalIgnoreCase) || s is "1")
                return new Cell<T>((T)(object)true, false, null);
            if (s.Equals("false", StringComparison.OrdinalIgnoreCase) || s is "0")
                return new Cell<T>((T)(object)false, false, null);
            return new Cell<T>(default!, false, "not a bool (true, false, 1 or 0)");
        }
        var (min, max) = typeof(T) == typeof(int) ? (int.MinValue, int.MaxValue) : typeof(T) == typeof(byte) ? (byte.MinValue, byte.MaxValue) : (long.MinValue, long.MaxValue);
        var rangeError = $"out of the range of {TypeName<T>()} ({min}..{max})";
        if (!long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n))
            return new Cell<T>(default!, false,
                System.Numerics.BigInteger.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out _) ? rangeError
                : double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _) ? "not a whole number" : "not a number");
        if (n < min || n > max)
            return new Cell<T>(default!, false, rangeError);
        return new Cell<T>(As<T>(n), false, null);
    }

    private static string TypeName<T>() => typeof(T) == typeof(int) ? "int32" : typeof(T) == typeof(byte) ? "uint8" : "int64";

    private static T As<T>(double value) =>
        typeof(T) == typeof(float) ? (T)(object)(float)value : (T)(object)value;

    private static T As<T>(long value) =>
        typeof(T) == typeof(int) ? (T)(object)(int)value : typeof(T) == typeof(byte) ? (T)(object)(byte)value : (T)(object)value;
}
