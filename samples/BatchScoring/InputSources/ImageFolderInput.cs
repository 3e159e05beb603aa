using Microsoft.ML;
using TrtMLNet;

namespace BatchScoring.InputSources;

/// <summary>
/// A folder of images (searched recursively, sorted by path), listed by <see cref="ImageDataView"/> as a
/// column of paths that TrtMLNet's image input decodes while it fills each batch: on every core, or with
/// nvJPEG on the GPU the model runs on (<see cref="ImagePreprocessing"/> says how pixels become values).
/// A shard takes its share of the files.
/// </summary>
public static class ImageFolderInput
{
    public const string PathColumn = "path";

    public static PreparedInput Open(MLContext mlContext, JobOptions options, ModelSignature model, InputStart start)
    {
        var folder = Path.GetFullPath(options.Input);
        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(f => InputSource.ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Select(f => Path.GetRelativePath(folder, f))
            .Order(StringComparer.Ordinal)
            .ToList();
        if (files.Count == 0)
            throw new UsageException($"The folder '{options.Input}' holds no images ({string.Join(", ", InputSource.ImageExtensions)}).");

        if (model.Inputs.Count != 1)
            throw new UsageException($"An image folder feeds models with one input; this model has {model.Inputs.Count}: {string.Join(", ", model.Inputs)}.");
        var tensor = model.Inputs[0];
        if (tensor.ElementType != typeof(float) && tensor.ElementType != typeof(byte) && tensor.ElementType.Name is not ("Float16" or "Half"))
            throw new UsageException($"The model's input {tensor} takes {tensor.TypeName}; image pixels come as float, float16 or uint8.");
        var shape = tensor.RowShape;
        if (shape.Length != 3 || (shape[0] != 3 && shape[2] != 3 && shape[0] > 0 && shape[2] > 0))
            throw new UsageException($"The model's input {tensor} is not an image of 3 channels ([N,3,H,W] or [N,H,W,3]).");
        // Channels last only when the model says so; [N,3,H,W] is what ONNX image models mostly take.
        var channelsLast = shape[2] == 3 && shape[0] != 3;
        var (modelHeight, modelWidth) = channelsLast ? (shape[0], shape[1]) : (shape[1], shape[2]);
        var (image, pixels) = ImagePreprocessing.For(options, tensor, channelsLast, modelHeight, modelWidth);
        image.ImageFolder = folder;

        var (from, to) = start.Shard.RangeOf(files.Count);
        if (start.Resume is { } resume)
            from = Math.Clamp(resume.ResumeAt, from, to);
        var mine = files.GetRange((int)from, (int)(to - from));

        var shardNote = start.Shard.IsWhole ? "" : $"; shard {start.Shard}: images {from + 1}..{to}";
        return new PreparedInput(new ImageDataView(mine, from), [PathColumn], mine.Count, $"image folder '{options.Input}', {files.Count} images{shardNote}",
            [$"{tensor} <- {pixels}"], [])
        {
            ImageInputs = new Dictionary<string, ImageInputOptions> { [tensor.Name] = image },
            ImageRows = new ImageRows(mine, from),
        };
    }
}

/// <summary>Where a row of an image folder's view comes from: its file and its index in the whole folder.</summary>
public sealed record ImageRows(IReadOnlyList<string> Files, long FirstIndex)
{
    /// <summary>The bad row to report for the image at <paramref name="position"/> of the view.</summary>
    public BadRow BadRow(long position, string reason)
    {
        var row = FirstIndex + position;
        return new BadRow(row, $"'{Files[(int)position]}'", $"image {row + 1} of the folder", null, null, reason.TrimEnd('.'));
    }
}
