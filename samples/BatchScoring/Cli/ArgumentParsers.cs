using System.CommandLine.Parsing;
using System.Globalization;

namespace BatchScoring.Cli;

/// <summary>
/// Parsers for numeric options that report a bad value as a parse error (one line, exit code 2),
/// never as an exception: System.CommandLine's own conversion fails inside validators that read the
/// value, which is how `--batch-size abc` used to end in a stack trace.
/// </summary>
public static class ArgumentParsers
{
    public static Func<ArgumentResult, int> WholeNumber(string name, long min, long max = int.MaxValue) =>
        result => (int)(Parse(result, name, min, max) ?? 0);

    public static Func<ArgumentResult, int?> OptionalWholeNumber(string name, long min, long max = int.MaxValue) =>
        result => (int?)Parse(result, name, min, max);

    public static Func<ArgumentResult, long?> OptionalLong(string name, long min) =>
        result => Parse(result, name, min, long.MaxValue);

    public static Func<ArgumentResult, float> Real(string name) => result =>
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && float.IsFinite(value))
            return value;
        result.AddError($"{name} takes a number (e.g. 0.5 or -127.5), not '{text}'.");
        return 0;
    };

    /// <summary>Three numbers, comma-separated (R,G,B); <paramref name="positive"/> rejects zero and negatives (a std).</summary>
    public static Func<ArgumentResult, float[]?> Triple(string name, bool positive) => result =>
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        var parts = text.Split(',');
        var values = new float[parts.Length];
        var ok = parts.Length == 3;
        for (var i = 0; ok && i < 3; i++)
            ok = float.TryParse(parts[i].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) && float.IsFinite(values[i]) && (!positive || values[i] > 0);
        if (ok)
            return values;
        result.AddError($"{name} takes three {(positive ? "positive " : "")}numbers for R,G,B on the 0..1 scale, e.g. {(positive ? "0.229,0.224,0.225" : "0.485,0.456,0.406")}; not '{text}'.");
        return null;
    };

    private static long? Parse(ArgumentResult result, string name, long min, long max)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            var reason = decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)
                ? d is > long.MaxValue or < long.MinValue ? $"must be at most {max}" : "takes a whole number"
                : "takes a whole number";
            result.AddError($"{name} {reason}, not '{text}'.");
            return null;
        }
        if (value < min)
        {
            result.AddError($"{name} must be at least {min}; it is {value}.");
            return null;
        }
        if (value > max)
        {
            result.AddError($"{name} must be at most {max}; it is {value}.");
            return null;
        }
        return value;
    }
}
