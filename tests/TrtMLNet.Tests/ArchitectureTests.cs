using System.Text.RegularExpressions;

namespace TrtMLNet.Tests;

/// <summary>
/// The library's shape, as docs/design.md draws it: a folder per layer, each using only the layers
/// below it; small files; lines that fit the .editorconfig limit. Read from the sources.
/// </summary>
public partial class ArchitectureTests
{
    /// <summary>Layers from the bottom up; the root folder holds the shared vocabulary (options, enums, public records, exceptions).</summary>
    private static readonly string[][] Layers =
    [
        ["(root)"],
        ["Native"],
        ["Device"],
        ["Images", "Onnx"],
        ["Backends"],
        ["Execution"],
        ["Scoring"],
        ["MLNet"],
    ];

    private const int MaxFileLines = 400;
    private const int MaxLineLength = 180;

    private static readonly string Source = Path.Combine(RepositoryRoot(), "src", "TrtMLNet");

    private static string RepositoryRoot()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "TrtMLNet.sln")))
            folder = folder.Parent;
        return folder?.FullName ?? throw new InvalidOperationException("TrtMLNet.sln not found above the test binaries.");
    }

    private static IEnumerable<string> SourceFiles(string root, params string[] patterns) =>
        patterns.SelectMany(p => Directory.EnumerateFiles(root, p, SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"));

    private static string LayerOf(string file)
    {
        var relative = Path.GetRelativePath(Source, file).Split(Path.DirectorySeparatorChar);
        return relative.Length == 1 ? "(root)" : relative[0];
    }

    private static int Level(string layer) => Array.FindIndex(Layers, l => l.Contains(layer));

    [Fact]
    public void Every_source_folder_is_a_known_layer()
    {
        var unknown = SourceFiles(Source, "*.cs").Select(LayerOf).Distinct().Where(l => Level(l) < 0).ToList();
        Assert.True(unknown.Count == 0, $"Folders that are not layers of docs/design.md: {string.Join(", ", unknown)}");
    }

    [Fact]
    public void No_layer_uses_a_layer_above_it()
    {
        var files = SourceFiles(Source, "*.cs").ToList();
        // Where each type is declared; a name declared in two layers is left out rather than guessed.
        var declaredIn = files
            .SelectMany(f => TypeDeclaration().Matches(File.ReadAllText(f)).Select(m => (Type: m.Groups["name"].Value, Layer: LayerOf(f))))
            .GroupBy(d => d.Type)
            .Where(g => g.Select(d => d.Layer).Distinct().Count() == 1)
            .ToDictionary(g => g.Key, g => g.First().Layer);
        var violations = new List<string>();
        foreach (var file in files)
        {
            var layer = LayerOf(file);
            var code = CodeOnly(File.ReadAllText(file));
            foreach (Match use in NamespaceUse().Matches(code))
                if (Level(use.Groups["layer"].Value) > Level(layer))
                    violations.Add($"{Path.GetRelativePath(Source, file)} ({layer}) imports {use.Value}");
            foreach (var name in Identifier().Matches(code).Select(m => m.Value).Distinct())
                if (declaredIn.TryGetValue(name, out var owner) && Level(owner) > Level(layer))
                    violations.Add($"{Path.GetRelativePath(Source, file)} ({layer}) uses {name} of {owner}");
        }
        Assert.True(violations.Count == 0, "Upward uses:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void No_source_file_is_over_400_lines()
    {
        var src = Path.Combine(RepositoryRoot(), "src");
        var long_ = SourceFiles(src, "*.cs", "*.cpp", "*.h", "*.cu")
            .Select(f => (File: Path.GetRelativePath(src, f), Lines: File.ReadLines(f).Count()))
            .Where(f => f.Lines > MaxFileLines)
            .ToList();
        Assert.True(long_.Count == 0, "Files over 400 lines: " + string.Join(", ", long_.Select(f => $"{f.File} ({f.Lines})")));
    }

    [Fact]
    public void No_source_line_is_over_the_editorconfig_limit()
    {
        var editorConfig = File.ReadAllText(Path.Combine(RepositoryRoot(), ".editorconfig"));
        Assert.Contains($"max_line_length = {MaxLineLength}", editorConfig);
        var src = Path.Combine(RepositoryRoot(), "src");
        var long_ = SourceFiles(src, "*.cs")
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (File: Path.GetRelativePath(src, f), Line: i + 1, line.Length)))
            .Where(l => l.Length > MaxLineLength)
            .ToList();
        Assert.True(long_.Count == 0, $"Lines over {MaxLineLength} characters: " + string.Join(", ", long_.Select(l => $"{l.File}:{l.Line} ({l.Length})")));
    }

    /// <summary>
    /// What users touch (options, results, exceptions) is in the namespace they import, whichever layer
    /// defines it; the catalog extends ML.NET's own. Public types of the layers below would break users
    /// each time a layer is reshaped.
    /// </summary>
    [Fact]
    public void Every_public_type_is_in_the_namespace_users_import()
    {
        var elsewhere = typeof(TensorRtOptions).Assembly.GetExportedTypes()
            .Where(t => t.Namespace is not ("TrtMLNet" or "Microsoft.ML"))
            .Select(t => t.FullName)
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.True(elsewhere.Count == 0, "Public types outside TrtMLNet: " + string.Join(", ", elsewhere));
    }

    /// <summary>The code without comments and without the text of string literals (their interpolation holes stay).</summary>
    private static string CodeOnly(string source)
    {
        var code = LineComment().Replace(source, "");
        code = BlockComment().Replace(code, "");
        return StringText().Replace(code, m => string.Concat(InterpolationHole().Matches(m.Value).Select(h => h.Value)));
    }

    /// <summary>Top-level declarations only (nested types are private to their file's type, and their names may repeat).</summary>
    [GeneratedRegex(@"^(?:(?:public|internal|static|sealed|abstract|partial|readonly|unsafe|file)\s+)*(?:class|struct|record(?:\s+struct)?|interface|enum|delegate\s+[\w.<>\[\], ]+?)\s+(?<name>[A-Z]\w*)", RegexOptions.Multiline)]
    private static partial Regex TypeDeclaration();

    [GeneratedRegex(@"\bTrtMLNet\.(?<layer>Native|Device|Images|Onnx|Backends|Execution|Scoring|MLNet)\b")]
    private static partial Regex NamespaceUse();

    /// <summary>Names used as types: not after a member access, not a member being declared (followed by { or =>).</summary>
    [GeneratedRegex(@"(?<![.\w])[A-Z]\w*\b(?!\s*(?:\{|=>))")]
    private static partial Regex Identifier();

    [GeneratedRegex(@"//.*")]
    private static partial Regex LineComment();

    [GeneratedRegex(@"/\*.*?\*/", RegexOptions.Singleline)]
    private static partial Regex BlockComment();

    [GeneratedRegex("\\$?@?\"(?:[^\"\\\\\\n]|\\\\.)*\"")]
    private static partial Regex StringText();

    [GeneratedRegex(@"\{[^{}""]*\}")]
    private static partial Regex InterpolationHole();
}
