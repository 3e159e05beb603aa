namespace ImageClassification;

/// <summary>One image file and the class it shows.</summary>
public sealed record LabelledImage(string Path, string Label);

/// <summary>Labelled images laid out as Model Builder reads them (a folder per label), and the train/test split.</summary>
public static class ImageSet
{
    public static readonly string[] Extensions = [".jpg", ".jpeg", ".png", ".bmp"];

    /// <summary>Every image under <paramref name="folder"/>/&lt;label&gt;/ (searched recursively), labelled with that folder's name.</summary>
    public static IReadOnlyList<LabelledImage> FromFolder(string folder)
    {
        if (!Directory.Exists(folder))
            throw new ArgumentException($"The image folder '{folder}' does not exist.");
        var images = new List<LabelledImage>();
        foreach (var labelFolder in Directory.GetDirectories(folder).Order(StringComparer.Ordinal))
        {
            var label = Path.GetFileName(labelFolder);
            images.AddRange(Directory.EnumerateFiles(labelFolder, "*", SearchOption.AllDirectories)
                .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
                .Order(StringComparer.Ordinal)
                .Select(f => new LabelledImage(Path.GetFullPath(f), label)));
        }
        var counts = images.CountBy(i => i.Label).ToList();
        if (counts.Count < 2)
            throw new ArgumentException($"'{folder}' must hold a folder of images per class, at least two classes; it has {counts.Count}.");
        // One image of a class cannot be both trained on and tested.
        if (counts.FirstOrDefault(c => c.Value < 2) is { Key: not null } few)
            throw new ArgumentException($"Class '{few.Key}' in '{folder}' has {few.Value} image(s); every class needs at least 2.");
        return images;
    }

    /// <summary>
    /// Holds out the same fraction of every class (at least one image each, never all). ML.NET's
    /// TrainTestSplit draws rows at random, which on a few dozen images can leave a class out of the
    /// test set, and then its row of the confusion matrix is empty.
    /// </summary>
    public static (IReadOnlyList<LabelledImage> Train, IReadOnlyList<LabelledImage> Test) Split(IReadOnlyList<LabelledImage> images, double testFraction, int seed)
    {
        if (testFraction is <= 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction, "The test fraction must lie strictly between 0 and 1.");
        var random = new Random(seed);
        var train = new List<LabelledImage>();
        var test = new List<LabelledImage>();
        foreach (var group in images.GroupBy(i => i.Label))
        {
            var shuffled = group.ToArray();
            random.Shuffle(shuffled);
            var held = Math.Clamp((int)Math.Round(shuffled.Length * testFraction), 1, shuffled.Length - 1);
            test.AddRange(shuffled[..held]);
            train.AddRange(shuffled[held..]);
        }
        return (train, test);
    }
}
