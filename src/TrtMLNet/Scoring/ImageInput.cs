using Microsoft.ML.Data;
using TrtMLNet.Images;

namespace TrtMLNet.Scoring;

/// <summary>How an image tensor is fed: its options, its layout, and whether its column holds paths or encoded bytes.</summary>
internal sealed record ImageInput(ImageInputOptions Options, ImageTensorLayout Layout, bool FromPaths)
{
    /// <summary>
    /// The input shape of an image tensor fed from <see cref="ImageInputOptions.Column"/> (the tensor's name
    /// by default): a text column of paths, or a variable-size vector of bytes (what ML.NET's
    /// LoadRawImageBytes makes). Every error names the column and the tensor.
    /// </summary>
    public static InputShape Bind(TensorInfo tensor, ImageInputOptions options, Func<string, DataViewType?> columnType, string modelName)
    {
        var column = options.Column ?? tensor.Name;
        var type = columnType(column)
            ?? throw new ArgumentException($"Image column '{column}' was not found in the data; {modelName} needs it for its input {tensor}.");
        var paths = type is TextDataViewType;
        var bytes = type is VectorDataViewType { ItemType: var item } && item.Equals(NumberDataViewType.Byte);
        if (!paths && !bytes)
            throw new ArgumentException(
                $"Image column '{column}' holds {type}, but the image input {tensor} of {modelName} is fed from image file paths (text) " +
                "or encoded image bytes (a vector of Byte, as ML.NET's LoadRawImageBytes makes).");
        var layout = ImageTensorLayout.Create(options, tensor.Name, tensor.TypeName, tensor.Shape);
        long[] rowShape = layout.Layout == ImageLayout.Nchw
            ? [ImageTensorLayout.Channels, layout.Height, layout.Width]
            : [layout.Height, layout.Width, ImageTensorLayout.Channels];
        return new InputShape(tensor, column, rowShape) { Image = new ImageInput(options, layout, paths) };
    }
}
