using System.Globalization;
using System.Text;

namespace TrtMLNet;

/// <summary>
/// What <see cref="TensorRtTransformer.CheckParity(Microsoft.ML.IDataView, int, ParityTolerance?, TensorRtBackend)"/>
/// accepts. Per output, the relative L2 error (‖actual − expected‖ / ‖expected‖ over all values) must be
/// at most <paramref name="MaxRelativeL2Error"/> and every row's cosine similarity at least
/// <paramref name="MinCosineSimilarity"/>; when <paramref name="Relative"/> is given, every value must
/// also satisfy |actual − expected| ≤ <paramref name="Absolute"/> + <paramref name="Relative"/> × |expected|
/// (with <see cref="AbsoluteInRowUnits"/>, <paramref name="Absolute"/> times the row's typical size instead).
/// NaN matches only NaN.
/// </summary>
public sealed record ParityTolerance(double MaxRelativeL2Error, double MinCosineSimilarity, double? Relative = null, double Absolute = 0)
{
    /// <summary>
    /// Whether <see cref="Absolute"/> is in units of each row's typical size: the median |expected| of the row,
    /// or 1 when that is smaller. A value near zero that comes from large terms carries their rounding: ResNet-50's
    /// logits in the thousands differed by up to 0.003 near zero between ONNX Runtime CUDA and CPU in plain FP32.
    /// <see cref="For(TensorRtPrecision, bool, bool)"/> sets it for FP32; a tolerance given by hand has it off.
    /// </summary>
    public bool AbsoluteInRowUnits { get; init; }

    /// <summary>
    /// What the precision that ran can be held to against fp32 on the CPU. Value by value only for full
    /// FP32 on the inputs the reference sees: with TF32 or reduced precision, values near zero carry errors
    /// far above their own size, and the norm and the per-row direction are what tell a right answer from a
    /// wrong one. Images decoded by nvJPEG are not the reference's inputs (JPEG decoders differ in their IDCT
    /// and chroma upsampling, up to about 10 levels of 255 on a pixel), so they are judged as TF32 is.
    /// </summary>
    public static ParityTolerance For(TensorRtPrecision precision, bool tf32, bool imagesDecodedOnGpu) => precision switch
    {
        TensorRtPrecision.Fp16 => new(MaxRelativeL2Error: 2e-2, MinCosineSimilarity: 0.999),
        TensorRtPrecision.Bf16 => new(MaxRelativeL2Error: 5e-2, MinCosineSimilarity: 0.995),
        _ when tf32 || imagesDecodedOnGpu => new(MaxRelativeL2Error: 1e-2, MinCosineSimilarity: 0.9999),
        _ => new(MaxRelativeL2Error: 1e-4, MinCosineSimilarity: 0.99999, Relative: 1e-3, Absolute: 1e-5) { AbsoluteInRowUnits = true },
    };

    /// <summary>As <see cref="For(TensorRtPrecision, bool, bool)"/> for inputs the reference decodes alike.</summary>
    public static ParityTolerance For(TensorRtPrecision precision, bool tf32) => For(precision, tf32, imagesDecodedOnGpu: false);

    public override string ToString()
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"relative L2 ≤ {MaxRelativeL2Error:g3}, cosine ≥ {MinCosineSimilarity}");
        if (Relative is not { } relative)
            return text;
        var absolute = string.Create(CultureInfo.InvariantCulture, $"{Absolute:g3}") + (AbsoluteInRowUnits ? "×max(1, row's median |expected|)" : "");
        return text + string.Create(CultureInfo.InvariantCulture, $", each value ≤ {absolute} + {relative:g3}×|expected|");
    }
}

/// <summary>How one output of a transformer compares with the reference on the same rows.</summary>
/// <param name="Output">The output's name.</param>
/// <param name="Values">Values compared.</param>
/// <param name="MaxAbsoluteError">Largest |actual − expected|.</param>
/// <param name="MaxRelativeError">Largest |actual − expected| / max(|expected|, the absolute tolerance or 1e-30).</param>
/// <param name="RelativeL2Error">‖actual − expected‖ / ‖expected‖ over every value of the output.</param>
/// <param name="MinCosineSimilarity">The lowest cosine similarity of a row's values with the reference's.</param>
/// <param name="Mismatches">Values outside the value-by-value tolerance (0 when it is not judged), and NaN disagreements.</param>
/// <param name="WorstRows">The rows with the largest absolute errors, worst first.</param>
/// <param name="WithinTolerance">The verdict.</param>
public sealed record OutputParity(
    string Output, long Values, double MaxAbsoluteError, double MaxRelativeError, double RelativeL2Error, double MinCosineSimilarity,
    long Mismatches, IReadOnlyList<RowError> WorstRows, bool WithinTolerance);

/// <summary>The worst value of one row: where it is, what the reference said and what the engine said.</summary>
public sealed record RowError(long Row, int Slot, double Expected, double Actual, double AbsoluteError);

/// <summary>The outcome of a parity check: the engine against a reference backend on the same rows.</summary>
/// <param name="Backend">What ran, e.g. "ONNX Runtime CUDA on GPU 0 (NVIDIA H200)".</param>
/// <param name="Precision">The precision it ran at, e.g. "FP16" or "FP32 with TF32".</param>
/// <param name="Reference">What it was compared with (FP32, TF32 off).</param>
/// <param name="Rows">Rows compared.</param>
/// <param name="Tolerance">What was accepted.</param>
/// <param name="Outputs">Each output's comparison.</param>
public sealed record ParityReport(string Backend, string Precision, string Reference, int Rows, ParityTolerance Tolerance, IReadOnlyList<OutputParity> Outputs)
{
    public bool WithinTolerance => Outputs.All(o => o.WithinTolerance);

    public override string ToString()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Parity of {Backend} ({Precision}) against {Reference} on {Rows} rows ({Tolerance}):");
        foreach (var o in Outputs)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"  {o.Output}: {(o.WithinTolerance ? "OK" : "MISMATCH")}, relative L2 error {o.RelativeL2Error:g3}, lowest row cosine {o.MinCosineSimilarity:0.######}, " +
                $"max abs error {o.MaxAbsoluteError:g4}, max rel error {o.MaxRelativeError:g4}, {o.Mismatches} of {o.Values} values outside tolerance");
            foreach (var row in o.WorstRows.Take(3))
                text.AppendLine(CultureInfo.InvariantCulture, $"    row {row.Row} [{row.Slot}]: expected {row.Expected:g7}, got {row.Actual:g7} (error {row.AbsoluteError:g3})");
        }
        return text.ToString().TrimEnd();
    }
}
