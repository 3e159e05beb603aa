using Microsoft.ML;
using Microsoft.ML.Transforms.Image;

namespace BatchScoring.InputSources;

/// <summary>
/// A folder of images (searched recursively, sorted by path), read by <see cref="ImageDataView"/>, then
/// through ML.NET's image transforms: resize, and extract the pixels into a column named after the
/// model's image input. ExtractPixels gives values 0..255, planar (CHW) unless the model takes its
/// channels last; --pixel-offset and --pixel-scale normalise them. A shard takes its share of the files.
/// </summary>
public static class ImageFolderInput
{
    public const string PathColumn = "path";
    private const int DefaultImageSize = 224;

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
        if (tensor.ElementType != typeof(float) && tensor.ElementType != typeof(byte))
            throw new UsageException($"The model's input {tensor} takes {tensor.TypeName}; image pixels come as float or uint8.");
        var shape = tensor.RowShape;
        if (shape.Length != 3 || (shape[0] != 3 && shape[2] != 3 && shape[0] > 0 && shape[2] > 0))
            throw new UsageException($"The model's input {tensor} is not an image of 3 channels ([N,3,H,W] or [N,H,W,3]).");
        // Channels last only when the model says so; [N,3,H,W] is what ONNX image models mostly take.
        var channelsLast = shape[2] == 3 && shape[0] != 3;
        var (modelHeight, modelWidth) = channelsLast ? (shape[0], shape[1]) : (shape[1], shape[2]);
        if (options.ImageSize is { } asked && ((modelHeight > 0 && modelHeight != asked) || (modelWidth > 0 && modelWidth != asked)))
            throw new UsageException($"--image-size {asked} does not fit the model's input {tensor}, which fixes the image size.");
        var height = modelHeight > 0 ? modelHeight : options.ImageSize ?? DefaultImageSize;
        var width = modelWidth > 0 ? modelWidth : options.ImageSize ?? DefaultImageSize;

        var (from, to) = start.Shard.RangeOf(files.Count);
        if (start.Resume is { } resume)
            from = Math.Clamp(resume.ResumeAt, from, to);
        var mine = files.GetRange((int)from, (int)(to - from));

        var images = new ImageDataView(folder, mine, from, start.BadRows);
        var pipeline = mlContext.Transforms.ResizeImages(ImageDataView.ImageColumn, width, height, ImageDataView.ImageColumn)
            .Append(mlContext.Transforms.ExtractPixels(tensor.Name, ImageDataView.ImageColumn,
                orderOfExtraction: options.Bgr ? ImagePixelExtractingEstimator.ColorsOrder.ABGR : ImagePixelExtractingEstimator.ColorsOrder.ARGB,
                interleavePixelColors: channelsLast,
                offsetImage: options.PixelOffset,
                scaleImage: options.PixelScale,
                outputAsFloatArray: tensor.ElementType == typeof(float)));
        var data = pipeline.Fit(images).Transform(images);
        var pixels = $"{width}x{height} {(options.Bgr ? "BGR" : "RGB")} {(channelsLast ? "HWC" : "CHW")}" +
            (options.PixelOffset != 0 || options.PixelScale != 1 ? $", (p {(options.PixelOffset < 0 ? "-" : "+")} {Math.Abs(options.PixelOffset)}) x {options.PixelScale}" : ", values 0..255");
        var shardNote = start.Shard.IsWhole ? "" : $"; shard {start.Shard}: images {from + 1}..{to}";
        return new PreparedInput(data, [PathColumn], mine.Count, $"image folder '{options.Input}', {files.Count} images{shardNote}",
            [$"{tensor} <- pixels {pixels}"], []);
    }
}
