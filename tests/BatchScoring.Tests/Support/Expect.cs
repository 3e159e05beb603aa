namespace BatchScoring.Tests.Support;

/// <summary>Assertions whose failure shows the whole text (xunit's Contains cuts long strings).</summary>
public static class Expect
{
    public static void Contains(string expected, string actual) =>
        Assert.True(actual.Contains(expected, StringComparison.Ordinal), $"Expected to find:\n  {expected}\nin:\n  {actual}");
}
