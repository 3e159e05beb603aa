using System.Globalization;
using System.Text;
using Microsoft.ML.Data;

namespace ImageClassification;

/// <summary>What Program prints after a run: the backend, the metrics, the confusion matrix, the predictions and the timings.</summary>
public static class ConsoleReport
{
    /// <param name="result">What the run measured.</param>
    /// <param name="options">What it was asked to do.</param>
    /// <param name="verbose">Give TrtMLNet's reasons for skipping a backend in full (what to install, paths probed), not only their first sentence.</param>
    public static string Format(SampleResult result, SampleOptions options, bool verbose)
    {
        var text = new StringBuilder();
        // Invariant, so the report reads the same on every machine (and as in the README).
        void Line(FormattableString? line = null) => text.AppendLine(line?.ToString(CultureInfo.InvariantCulture));
        Line();
        Line($"Backend   {result.BackendDescription}, batches of {result.BatchSize}");
        foreach (var skipped in result.SkippedBackends)
            Line($"          skipped {skipped.Backend}: {(verbose ? skipped.Reason : FirstSentence(skipped.Reason))}");
        Line($"Data      {result.Classes.Count} classes ({string.Join(", ", result.Classes)}): {result.TrainImages} images to train, {result.TestImages} to test");

        var m = result.Metrics;
        var chance = 1.0 / result.Classes.Count;
        Line();
        Line($"Metrics on the test images");
        Line($"  Accuracy (micro)     {m.MicroAccuracy,8:P1}   chance: {chance:P1}");
        Line($"  Macro accuracy       {m.MacroAccuracy,8:P1}   the mean of the classes' recalls");
        Line($"  Log-loss             {m.LogLoss,8:0.000}   chance: {Math.Log(result.Classes.Count):0.000} (ln {result.Classes.Count})");
        Line($"  Log-loss reduction   {m.LogLossReduction,8:0.000}   1 is perfect, 0 no better than the class frequencies");
        Line();
        text.AppendLine(PerClass(result.Classes, m));
        Line();
        text.AppendLine(ConfusionMatrix(result.Classes, m.ConfusionMatrix));

        if (result.Predictions.Count > 0)
        {
            Line();
            Line($"New images through a PredictionEngine: the trained model | loaded back by TrtMLNet");
            var root = Path.GetFullPath(options.OutputFolder);
            var width = result.Predictions.Max(p => Shorten(p.ImagePath, root).Length);
            foreach (var p in result.Predictions)
            {
                var mark = p.Trained.Label == p.TrueLabel ? " " : "x";
                Line($"  {mark} {Shorten(p.ImagePath, root).PadRight(width)}  {Show(p.Trained)} | {Show(p.TensorRtLoad)}");
            }
            var right = result.Predictions.Count(p => p.Trained.Label == p.TrueLabel);
            var agree = result.Predictions.All(p => p.LabelsAgree);
            var difference = result.Predictions.Max(p => p.MaxScoreDifference);
            Line($"  {right} of {result.Predictions.Count} right (x marks a wrong one); the loaded model {(agree ? "predicts the same labels" : "DISAGREE on some labels")}, probabilities within {difference:0.0e+0}");
        }
        Line();
        Line($"Saved     {result.ModelPath}; TrtMLNet's load runs on {result.ReloadedBackendDescription}");
        Line($"Took      {string.Join(", ", result.Timings.Select(t => $"{t.Step.ToLowerInvariant()} {t.Took.TotalSeconds:0.0} s"))}");
        return text.ToString();
    }

    private static string Show(Prediction p) => $"{p.Label} {p.Probability:0.00}";

    private static string Shorten(string path, string root) =>
        path.StartsWith(root, StringComparison.Ordinal) ? Path.GetRelativePath(root, path) : path;

    /// <summary>Text up to the first full stop that ends a sentence outside parentheses.</summary>
    private static string FirstSentence(string text)
    {
        var depth = 0;
        for (var i = 0; i < text.Length - 1; i++)
        {
            if (text[i] == '(') depth++;
            else if (text[i] == ')') depth = Math.Max(0, depth - 1);
            else if (text[i] == '.' && depth == 0 && text[i + 1] == ' ') return text[..(i + 1)];
        }
        return text;
    }

    private static string PerClass(IReadOnlyList<string> classes, MulticlassClassificationMetrics m)
    {
        var width = Math.Max(5, classes.Max(c => c.Length));
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"  {"class".PadRight(width)}  precision  recall  log-loss");
        for (var c = 0; c < classes.Count; c++)
            text.AppendLine(CultureInfo.InvariantCulture,
                $"  {classes[c].PadRight(width)}  {m.ConfusionMatrix.PerClassPrecision[c],9:P1}  {m.ConfusionMatrix.PerClassRecall[c],6:P0}  {m.PerClassLogLoss[c],8:0.000}");
        return text.ToString().TrimEnd();
    }

    /// <summary>Counts by true class (rows) and predicted class (columns), with the class names ML.NET's own table leaves out.</summary>
    private static string ConfusionMatrix(IReadOnlyList<string> classes, ConfusionMatrix matrix)
    {
        var width = Math.Max(9, classes.Max(c => c.Length) + 1);
        var text = new StringBuilder();
        text.AppendLine("  Confusion matrix (rows: true class, columns: predicted)");
        text.Append("  ").Append(new string(' ', width));
        foreach (var c in classes)
            text.Append(c.PadLeft(width));
        text.AppendLine();
        for (var t = 0; t < classes.Count; t++)
        {
            text.Append("  ").Append(classes[t].PadRight(width));
            for (var p = 0; p < classes.Count; p++)
                text.Append(matrix.Counts[t][p].ToString("0", CultureInfo.InvariantCulture).PadLeft(width));
            text.AppendLine();
        }
        return text.ToString().TrimEnd();
    }
}
