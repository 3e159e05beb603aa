using System.Globalization;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using TrtMLNet.Backends;

namespace TrtMLNet;

/// <summary>How one output of a transformer compares with a reference backend on the same rows.</summary>
public sealed class OutputParity
{
    public required string Output { get; init; }

    public required long Values { get; init; }

    public required double MaxAbsoluteError { get; init; }

    /// <summary>Largest |actual - expected| / max(|expected|, absolute tolerance).</summary>
    public required double MaxRelativeError { get; init; }

    /// <summary>Values outside |actual - expected| &lt;= absolute + relative * |expected| (NaN matches only NaN).</summary>
    public required long Mismatches { get; init; }

    /// <summary>The rows with the largest absolute errors, worst first.</summary>
    public required IReadOnlyList<RowError> WorstRows { get; init; }

    public bool WithinTolerance => Mismatches == 0;
}

/// <summary>The worst value of one row: where it is, what the reference said and what the engine said.</summary>
public sealed record RowError(long Row, int Slot, double Expected, double Actual, double AbsoluteError);

/// <summary>The outcome of <see cref="TensorRtTransformer.CheckParity"/>.</summary>
public sealed class ParityReport
{
    public required string Backend { get; init; }

    public required string Reference { get; init; }

    public required int Rows { get; init; }

    public required double RelativeTolerance { get; init; }

    public required double AbsoluteTolerance { get; init; }

    public required IReadOnlyList<OutputParity> Outputs { get; init; }

    public bool WithinTolerance => Outputs.All(o => o.WithinTolerance);

    public override string ToString()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Parity of {Backend} against {Reference} on {Rows} rows (relative {RelativeTolerance:g3}, absolute {AbsoluteTolerance:g3}):");
        foreach (var o in Outputs)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"  {o.Output}: {(o.WithinTolerance ? "OK" : "MISMATCH")}, max abs error {o.MaxAbsoluteError:g4}, max rel error {o.MaxRelativeError:g4}, {o.Mismatches} of " +
                    $"{o.Values} values outside tolerance");
            foreach (var row in o.WorstRows.Take(3))
                text.AppendLine(CultureInfo.InvariantCulture, $"    row {row.Row} [{row.Slot}]: expected {row.Expected:g7}, got {row.Actual:g7} (error {row.AbsoluteError:g3})");
        }
        return text.ToString().TrimEnd();
    }
}

/// <summary>Compares a transformer with the same model on a reference backend, value by value.</summary>
internal static class ParityCheck
{
    private const int WorstRowsKept = 5;

    public static ParityReport Run(TensorRtTransformer transformer, IDataView data, int rows, double relativeTolerance, double absoluteTolerance, TensorRtBackend reference)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        if (reference == TensorRtBackend.Auto)
            throw new ArgumentException("The reference must be a concrete backend, not Auto.", nameof(reference));
        var sample = new MLContext().Data.TakeRows(data, rows);
        var options = transformer.Options.Clone();
        options.Backend = reference;
        options.FallbackToCpu = false;
        options.Lanes = 1;
        using var referenceTransformer = TensorRtTransformer.Create(HostEnvironment.None, options, transformer.Model, data.Schema);

        var outputs = transformer.Fitted.Shapes.Outputs;
        var actual = Collect(transformer.Transform(sample), outputs);
        var expected = Collect(referenceTransformer.Transform(sample), outputs);
        var results = new List<OutputParity>();
        for (var o = 0; o < outputs.Count; o++)
            results.Add(Compare(outputs[o].Tensor.Name, expected[o], actual[o], relativeTolerance, absoluteTolerance));
        return new ParityReport
        {
            Backend = transformer.BackendDescription,
            Reference = referenceTransformer.BackendDescription,
            Rows = expected.Count == 0 ? 0 : expected[0].Count,
            RelativeTolerance = relativeTolerance,
            AbsoluteTolerance = absoluteTolerance,
            Outputs = results,
        };
    }

    private static OutputParity Compare(string name, List<double[]> expected, List<double[]> actual, double relative, double absolute)
    {
        double maxAbs = 0, maxRel = 0;
        long mismatches = 0, values = 0;
        var worst = new List<RowError>();
        for (var row = 0; row < expected.Count; row++)
        {
            RowError? rowWorst = null;
            for (var i = 0; i < expected[row].Length; i++)
            {
                double e = expected[row][i], a = actual[row][i];
                values++;
                if (double.IsNaN(e) || double.IsNaN(a))
                {
                    if (double.IsNaN(e) != double.IsNaN(a))
                    {
                        mismatches++;
                        rowWorst = new RowError(row, i, e, a, double.PositiveInfinity);
                        maxAbs = maxRel = double.PositiveInfinity;
                    }
                    continue;
                }
                // Equal infinities are equal; anything else involving one is an infinite error.
                var error = e == a ? 0 : Math.Abs(a - e);
                maxAbs = Math.Max(maxAbs, error);
                maxRel = Math.Max(maxRel, error / Math.Max(Math.Abs(e), absolute));
                if (error > absolute + relative * Math.Abs(e))
                    mismatches++;
                if (rowWorst is null || error > rowWorst.AbsoluteError)
                    rowWorst = new RowError(row, i, e, a, error);
            }
            if (rowWorst is not null)
                worst.Add(rowWorst);
        }
        return new OutputParity
        {
            Output = name,
            Values = values,
            MaxAbsoluteError = maxAbs,
            MaxRelativeError = maxRel,
            Mismatches = mismatches,
            WorstRows = worst.OrderByDescending(w => w.AbsoluteError).Take(WorstRowsKept).ToList(),
        };
    }

    /// <summary>Every output value of every row, as doubles.</summary>
    private static List<List<double[]>> Collect(IDataView scored, IReadOnlyList<Scoring.OutputShape> outputs)
    {
        var columns = outputs.Select(o => scored.Schema[o.Tensor.Name]).ToList();
        var result = outputs.Select(_ => new List<double[]>()).ToList();
        using var cursor = scored.GetRowCursor(columns);
        var readers = columns.Select((c, i) => Reader(cursor, c, outputs[i].Tensor.ElementType)).ToList();
        while (cursor.MoveNext())
            for (var o = 0; o < readers.Count; o++)
                result[o].Add(readers[o]());
        return result;
    }

    private static Func<double[]> Reader(DataViewRowCursor cursor, DataViewSchema.Column column, TensorElementType type) => type switch
    {
        TensorElementType.Float32 => Reader<float>(cursor, column, v => v),
        TensorElementType.Float64 => Reader<double>(cursor, column, v => v),
        TensorElementType.Int32 => Reader<int>(cursor, column, v => v),
        TensorElementType.Int64 => Reader<long>(cursor, column, v => v),
        TensorElementType.Bool => Reader<bool>(cursor, column, v => v ? 1 : 0),
        TensorElementType.UInt8 => Reader<byte>(cursor, column, v => v),
        _ => throw new NotSupportedException(column.Name),
    };

    private static Func<double[]> Reader<T>(DataViewRowCursor cursor, DataViewSchema.Column column, Func<T, double> convert)
    {
        var getter = cursor.GetGetter<VBuffer<T>>(column);
        var buffer = default(VBuffer<T>);
        return () =>
        {
            getter(ref buffer);
            return buffer.DenseValues().Select(convert).ToArray();
        };
    }
}
