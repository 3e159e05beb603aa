using Microsoft.ML;
using Microsoft.ML.Data;

namespace TrtMLNet;

/// <summary>
/// Compares a transformer with the same model on a reference backend (FP32, TF32 off), value by value,
/// by norm and by each row's direction.
/// </summary>
internal static class ParityCheck
{
    private const int WorstRowsKept = 5;

    public static ParityReport Run(TensorRtTransformer transformer, IDataView data, int rows, ParityTolerance? tolerance, TensorRtBackend reference)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        if (reference == TensorRtBackend.Auto)
            throw new ArgumentException("The reference must be a concrete backend, not Auto.", nameof(reference));
        var sample = new MLContext().Data.TakeRows(data, rows);
        using var referenceTransformer = TensorRtTransformer.Create(HostEnvironment.None, ReferenceOptions(transformer.Options, reference), transformer.Model,
            name => data.Schema.GetColumnOrNull(name)?.Type);

        var precision = transformer.Fitted.Precision;
        var judged = tolerance ?? DefaultTolerance(transformer);
        var outputs = transformer.OutputColumnNames;
        var actual = Collect(transformer.Transform(sample), outputs);
        var expected = Collect(referenceTransformer.Transform(sample), outputs);
        return new ParityReport(
            transformer.BackendDescription,
            Describe(precision, RanTf32(transformer) && precision == TensorRtPrecision.Fp32) + (DecodesImagesOnGpu(transformer) ? ", images decoded by nvJPEG" : ""),
            referenceTransformer.BackendDescription + " (FP32)",
            expected.Count == 0 ? 0 : expected[0].Count,
            judged,
            outputs.Select((name, o) => Compare(name, expected[o], actual[o], judged)).ToList());
    }

    /// <summary>What the precision, the TF32 setting and the image decoder that ran here can be held to.</summary>
    internal static ParityTolerance DefaultTolerance(TensorRtTransformer transformer) =>
        ParityTolerance.For(transformer.Fitted.Precision, RanTf32(transformer), DecodesImagesOnGpu(transformer));

    private static bool RanTf32(TensorRtTransformer transformer) =>
        transformer.Options.AllowTf32 && !transformer.Fitted.Runtime.Engine.Device.SharesHostMemory;

    private static bool DecodesImagesOnGpu(TensorRtTransformer transformer) =>
        transformer.Fitted.ImageInputs.Values.Any(image => image.Gpu is not null);

    /// <summary>The checked transformer's options, for the reference: FP32 without TF32, one lane, the graph as given.</summary>
    internal static TensorRtOptions ReferenceOptions(TensorRtOptions checkedOptions, TensorRtBackend reference)
    {
        var options = checkedOptions.Clone();
        options.Backend = reference;
        options.FallbackToCpu = false;
        options.Lanes = 1;
        options.Precision = TensorRtPrecision.Fp32;
        options.AllowTf32 = false;
        options.CudaGraphs = false;
        // The reference runs the graph as the user gave it, so the check judges fit's rewrites too.
        options.FuseTransformerOps = false;
        // The reference decodes images on the CPU: a CPU backend refuses nvJPEG, and the CPU path is the one both share.
        options.ImageInputs = options.ImageInputs?.ToDictionary(p => p.Key, p => p.Value.DecodedOn(ImageDecoderKind.Cpu));
        return options;
    }

    private static string Describe(TensorRtPrecision precision, bool tf32) => precision switch
    {
        TensorRtPrecision.Fp16 => "FP16",
        TensorRtPrecision.Bf16 => "BF16",
        _ => tf32 ? "FP32 with TF32" : "FP32",
    };

    internal static OutputParity Compare(string name, List<double[]> expected, List<double[]> actual, ParityTolerance tolerance)
    {
        double maxAbs = 0, maxRel = 0, errorSquares = 0, expectedSquares = 0, minCosine = 1;
        long mismatches = 0, values = 0;
        var worst = new List<RowError>();
        for (var row = 0; row < expected.Count; row++)
        {
            RowError? rowWorst = null;
            var absolute = tolerance.AbsoluteInRowUnits ? tolerance.Absolute * RowScale(expected[row]) : tolerance.Absolute;
            double dot = 0, expectedNorm = 0, actualNorm = 0;
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
                        maxAbs = maxRel = errorSquares = double.PositiveInfinity;
                    }
                    continue;
                }
                // Equal infinities are equal; anything else involving one is an infinite error.
                var error = e == a ? 0 : Math.Abs(a - e);
                maxAbs = Math.Max(maxAbs, error);
                maxRel = Math.Max(maxRel, error / Math.Max(Math.Abs(e), Math.Max(absolute, 1e-30)));
                if (tolerance.Relative is { } relative && error > absolute + relative * Math.Abs(e))
                    mismatches++;
                errorSquares += error * error;
                expectedSquares += e * e;
                dot += e * a;
                expectedNorm += e * e;
                actualNorm += a * a;
                if (rowWorst is null || error > rowWorst.AbsoluteError)
                    rowWorst = new RowError(row, i, e, a, error);
            }
            minCosine = Math.Min(minCosine, Cosine(dot, expectedNorm, actualNorm));
            if (rowWorst is not null)
                worst.Add(rowWorst);
        }
        var relativeL2 = errorSquares == 0 ? 0 : Math.Sqrt(errorSquares / Math.Max(expectedSquares, 1e-300));
        var within = mismatches == 0 && relativeL2 <= tolerance.MaxRelativeL2Error && minCosine >= tolerance.MinCosineSimilarity;
        return new OutputParity(name, values, maxAbs, maxRel, relativeL2, minCosine, mismatches,
            worst.OrderByDescending(w => w.AbsoluteError).Take(WorstRowsKept).ToList(), within);
    }

    /// <summary>
    /// The row's typical size: the median |value| of its finite values, or 1 when that is smaller. A median, so
    /// that a few large values (a masking sentinel, box coordinates beside probabilities) do not loosen the rest.
    /// </summary>
    private static double RowScale(double[] row)
    {
        var sizes = row.Where(double.IsFinite).Select(Math.Abs).Order().ToArray();
        return sizes.Length == 0 ? 1 : Math.Max(1, sizes[sizes.Length / 2]);
    }

    /// <summary>1 for two zero rows (they agree), 0 when only one is zero.</summary>
    private static double Cosine(double dot, double expectedNorm, double actualNorm) =>
        expectedNorm == 0 && actualNorm == 0 ? 1 : expectedNorm == 0 || actualNorm == 0 ? 0 : dot / Math.Sqrt(expectedNorm * actualNorm);

    /// <summary>Every value of every row of each output, as doubles; outputs are read as their columns hold them.</summary>
    private static List<List<double[]>> Collect(IDataView scored, IReadOnlyList<string> outputs)
    {
        var columns = outputs.Select(o => scored.Schema[o]).ToList();
        var result = outputs.Select(_ => new List<double[]>()).ToList();
        using var cursor = scored.GetRowCursor(columns);
        var readers = columns.Select(c => Reader(cursor, c)).ToList();
        while (cursor.MoveNext())
            for (var o = 0; o < readers.Count; o++)
                result[o].Add(readers[o]());
        return result;
    }

    private static Func<double[]> Reader(DataViewRowCursor cursor, DataViewSchema.Column column) =>
        (column.Type is VectorDataViewType vector ? vector.ItemType : column.Type).RawType switch
    {
        var t when t == typeof(float) => Reader<float>(cursor, column, v => v),
        var t when t == typeof(double) => Reader<double>(cursor, column, v => v),
        var t when t == typeof(int) => Reader<int>(cursor, column, v => v),
        var t when t == typeof(long) => Reader<long>(cursor, column, v => v),
        var t when t == typeof(bool) => Reader<bool>(cursor, column, v => v ? 1 : 0),
        var t when t == typeof(byte) => Reader<byte>(cursor, column, v => v),
        _ => throw new NotSupportedException($"Output column '{column.Name}' holds {column.Type}, which a parity check cannot compare."),
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
