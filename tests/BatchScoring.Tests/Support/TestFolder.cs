namespace BatchScoring.Tests.Support;

/// <summary>A fresh folder per test under the temp folder, removed afterwards.</summary>
public sealed class TestFolder : IDisposable
{
    public TestFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "batchscoring-tests", Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string this[string name] => System.IO.Path.Combine(Path, name);

    /// <summary>The names in a folder (files and folders, recursively, sorted), to check what a run left.</summary>
    public static List<string> ListingOf(string folder) => Directory.Exists(folder)
        ? Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories).Select(p => System.IO.Path.GetRelativePath(folder, p)).Order(StringComparer.Ordinal).ToList()
        : [];

    public List<string> Listing(string? sub = null) => ListingOf(sub is null ? Path : this[sub]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
