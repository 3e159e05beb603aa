using System.Reflection;
using BatchScoring.Cli;

namespace BatchScoring.Tests;

/// <summary>samples/BatchScoring/README.md documents every option the command line has and every exit code the job returns.</summary>
public sealed class ReadmeTests
{
    private static readonly string s_readme = File.ReadAllText(Path.Combine(
        Path.GetDirectoryName(Support.Job.Dll)!, "..", "..", "..", "README.md"));

    [Fact]
    public void EveryOptionIsInTheOptionsTable()
    {
        var options = new JobCommand().Root.Options.Where(o => o.Name.StartsWith("--", StringComparison.Ordinal)).ToList();
        Assert.True(options.Count >= 28, $"only {options.Count} options found");
        foreach (var option in options)
            Assert.True(s_readme.Contains($"| `{option.Name}`", StringComparison.Ordinal) || s_readme.Contains($"`{option.Name}`,", StringComparison.Ordinal),
                $"README.md has no row for {option.Name}");
    }

    [Fact]
    public void EveryExitCodeIsInTheExitCodesTable()
    {
        var codes = typeof(ExitCodes).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (int)f.GetValue(null)!).ToList();
        Assert.Equal(9, codes.Count);
        foreach (var code in codes)
            Assert.Matches($@"\n\| ({code}|[0-9 /]*\b{code}\b[0-9 /]*) \|", s_readme);
    }
}
