using System.Collections.Concurrent;

namespace BatchScoring.Tests.Support;

/// <summary>
/// Uninterrupted runs of the job, made once per test run and shared: what a stopped-and-resumed or a
/// sharded run must equal, row for row.
/// </summary>
public static class Reference
{
    public const int Rows = 6000;
    public const string CommitEvery = "100";

    private static readonly ConcurrentDictionary<string, Lazy<List<string[]>>> s_runs = new();
    private static readonly Lazy<string> s_folder = new(() =>
    {
        var folder = Path.Combine(Path.GetTempPath(), "batchscoring-tests", $"reference-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        // Shared by the test classes, so removed when the test run ends rather than by one of them.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(folder, recursive: true); }
            catch (IOException) { }
        };
        return folder;
    });

    /// <summary>The deep MLP's CSV input of <see cref="Rows"/> rows.</summary>
    public static string Csv => Input("csv");

    /// <summary>The same rows as Parquet, in row groups of 1000.</summary>
    public static string Parquet => Input("parquet");

    private static readonly ConcurrentDictionary<string, Lazy<string>> s_inputs = new();

    private static string Input(string format) => s_inputs.GetOrAdd(format, f => new Lazy<string>(() => f == "csv"
        ? Inputs.MlpCsv(Path.Combine(s_folder.Value, "in.csv"), Rows)
        : Inputs.MlpParquet(Path.Combine(s_folder.Value, "in.parquet"), Rows, 1000))).Value;

    /// <summary>The rows of an uninterrupted run from <paramref name="input"/> to an output of <paramref name="extension"/>.</summary>
    public static List<string[]> Output(string input, string extension) => s_runs.GetOrAdd($"{input}>{extension}", _ => new Lazy<List<string[]>>(() =>
    {
        var output = Path.Combine(s_folder.Value, $"ref-{Path.GetExtension(input).Trim('.')}{extension}");
        var result = Job.Run(s_folder.Value, ["-i", input, "-m", Models.DeepMlp, "-o", output, "--commit-every", CommitEvery, "--overwrite"], null, TimeSpan.FromSeconds(120));
        Assert.True(result.ExitCode == 0, result.ToString());
        return Read(output);
    })).Value;

    public static List<string[]> Read(string path) => path.EndsWith(".csv", StringComparison.Ordinal) ? OutputFiles.ReadCsv(path) : OutputFiles.ReadParquet(path);
}
