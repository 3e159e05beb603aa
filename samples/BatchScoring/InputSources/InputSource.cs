using Microsoft.ML;

namespace BatchScoring.InputSources;

/// <summary>
/// Input data ready for the TensorRT stage: one column per model input, named after the tensor, with
/// the tensor's element type and per-row size, plus the columns to carry through to the output.
/// </summary>
public sealed record PreparedInput(
    IDataView Data,
    IReadOnlyList<string> PassThroughColumns,
    long? RowCount,
    string Description,
    IReadOnlyList<string> Mapping,
    IReadOnlyList<string> Warnings)
{
    /// <summary>The model's image inputs, fed by TrtMLNet's image decoding (an image folder); null for tabular inputs.</summary>
    public IDictionary<string, TrtMLNet.ImageInputOptions>? ImageInputs { get; init; }

    /// <summary>For an image folder: the file behind each row, to report the images TrtMLNet skipped.</summary>
    public ImageRows? ImageRows { get; init; }
}

/// <summary>Which part of the input to read, from where, and where bad rows go.</summary>
public sealed record InputStart(ShardSpec Shard, ResumePoint? Resume, BadRowSink BadRows)
{
    public static InputStart Fresh(BadRowPolicy policy = BadRowPolicy.Stop) => new(ShardSpec.Whole, null, new BadRowSink(policy));
}

public static class InputSource
{
    public static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".bmp"];

    /// <summary>Opens the input named by <see cref="JobOptions.Input"/> by what it is: a folder, .csv/.tsv or .parquet.</summary>
    public static PreparedInput Open(MLContext mlContext, JobOptions options, ModelSignature model, InputStart start)
    {
        if (Directory.Exists(options.Input))
            return ImageFolderInput.Open(mlContext, options, model, start);
        if (!File.Exists(options.Input))
            throw new UsageException($"The input '{options.Input}' does not exist.");
        return Path.GetExtension(options.Input).ToLowerInvariant() switch
        {
            ".csv" or ".tsv" or ".txt" => CsvInput.Open(options, model, start),
            ".parquet" => ParquetInput.Open(options, model, start),
            var other => throw new UsageException(
                $"The input '{options.Input}' has the extension '{other}', which this job does not read: give a .csv, .tsv or .parquet file, or a folder of images ({string.Join(", ", ImageExtensions)})."),
        };
    }

    /// <summary>The ML.NET column type of a tensor's element type; null for types ML.NET columns cannot carry.</summary>
    public static Microsoft.ML.Data.DataKind? DataKindOf(Type elementType) =>
        elementType == typeof(float) ? Microsoft.ML.Data.DataKind.Single
        : elementType == typeof(double) ? Microsoft.ML.Data.DataKind.Double
        : elementType == typeof(long) ? Microsoft.ML.Data.DataKind.Int64
        : elementType == typeof(int) ? Microsoft.ML.Data.DataKind.Int32
        : elementType == typeof(bool) ? Microsoft.ML.Data.DataKind.Boolean
        : elementType == typeof(byte) ? Microsoft.ML.Data.DataKind.Byte
        : null;

    public static void CheckSupported(TensorSignature tensor)
    {
        if (DataKindOf(tensor.ElementType) is null)
            throw new UsageException($"The model's input {tensor} has an element type ML.NET columns cannot carry; supported are float, double, int32, int64, bool and uint8.");
    }
}
