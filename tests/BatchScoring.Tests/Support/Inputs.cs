using System.Globalization;
using System.Text;
using Parquet;
using Parquet.Schema;
using SkiaSharp;
using TrtMLNet.Tests.Models;

namespace BatchScoring.Tests.Support;

/// <summary>Small inputs and models the tests make as they run: nothing binary is kept in the repository.</summary>
public static class Inputs
{
    public const int Features = TestModels.MlpFeatures;

    /// <summary>Feature j of row i: varied, exact in float, the same in every test.</summary>
    public static float Value(int row, int feature) => MathF.Round(MathF.Sin(row * 0.37f + feature * 1.3f) * 1000f) / 256f;

    public static string Cell(int row, int feature) => Value(row, feature).ToString("R", CultureInfo.InvariantCulture);

    /// <summary>A CSV for the MLP: id, features_0..features_19; <paramref name="cell"/> may replace a cell's text.</summary>
    public static string MlpCsv(string path, int rows, Func<int, int, string?>? cell = null, string header = "features")
    {
        var text = new StringBuilder();
        text.Append("id,").AppendJoin(',', Enumerable.Range(0, Features).Select(j => $"{header}_{j}")).Append('\n');
        for (var i = 0; i < rows; i++)
            text.Append("r").Append(i).Append(',').AppendJoin(',', Enumerable.Range(0, Features).Select(j => cell?.Invoke(i, j) ?? Cell(i, j))).Append('\n');
        File.WriteAllText(path, text.ToString());
        return path;
    }

    /// <summary>A Parquet file for the MLP: id (text) and features (a list of 20 floats), in row groups of <paramref name="rowGroup"/>.</summary>
    public static string MlpParquet(string path, int rows, int rowGroup, CompressionMethod compression = CompressionMethod.Snappy)
    {
        var id = new DataField<string>("id");
        var item = new DataField<float>(ListField.ElementName);
        var features = new ListField("features", item);
        using var stream = File.Create(path);
        var writer = ParquetWriter.CreateAsync(new ParquetSchema(id, features), stream, new ParquetOptions { CompressionMethod = compression }).GetAwaiter().GetResult();
        for (var start = 0; start < rows; start += rowGroup)
        {
            var n = Math.Min(rowGroup, rows - start);
            using var group = writer.CreateRowGroup();
            group.WriteAsync(id, Enumerable.Range(start, n).Select(i => (string?)$"r{i}").ToArray()).GetAwaiter().GetResult();
            var values = Enumerable.Range(start, n).SelectMany(i => Enumerable.Range(0, Features).Select(j => Value(i, j))).ToArray();
            var repetition = Enumerable.Range(0, n * Features).Select(k => k % Features == 0 ? 0 : 1).ToArray();
            var definition = Enumerable.Repeat(item.MaxDefinitionLevel, n * Features).ToArray();
            group.WriteAllPartsAsync<float>(item, values.AsMemory(), definition.AsMemory(), repetition.AsMemory(), CancellationToken.None).GetAwaiter().GetResult();
            group.CompleteValidate();
        }
        writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return path;
    }

    /// <summary>Images of <paramref name="size"/> pixels drawn with a fixed seed, alternately PNG and JPEG.</summary>
    public static string Images(string folder, int count, int size = 16)
    {
        Directory.CreateDirectory(folder);
        var random = new Random(5);
        for (var i = 0; i < count; i++)
        {
            using var bitmap = new SKBitmap(size, size);
            for (var y = 0; y < size; y++)
                for (var x = 0; x < size; x++)
                    bitmap.SetPixel(x, y, new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)));
            var (format, extension) = i % 2 == 0 ? (SKEncodedImageFormat.Png, "png") : (SKEncodedImageFormat.Jpeg, "jpg");
            using var data = SKImage.FromBitmap(bitmap).Encode(format, 95);
            File.WriteAllBytes(Path.Combine(folder, $"img-{i:D3}.{extension}"), data.ToArray());
        }
        return folder;
    }
}

/// <summary>The models the tests score.</summary>
public static class Models
{
    private static readonly Lazy<string> s_deep = new(() => Deep().Save(Path.Combine(TestModels.Folder, "deep-mlp.onnx")));
    private static readonly Lazy<string> s_image = new(() => TinyImage().Save(Path.Combine(TestModels.Folder, "tiny-image.onnx")));

    /// <summary>20 features -> 3 scores and 3 probabilities (TestModels' MLP).</summary>
    public static string Mlp => TestModels.MlpPath;

    /// <summary>Five inputs of five types, among them int64 "ids" [N,4] (TestModels' multi-IO model).</summary>
    public static string MultiIo => TestModels.MultiIoPath;

    /// <summary>
    /// The MLP's input and outputs with 24 layers of 256 between: about 3 MFLOP a row, so a few thousand
    /// rows take seconds and a test can stop the job in the middle. Same seed, same weights, every run.
    /// </summary>
    public static string DeepMlp => s_deep.Value;

    /// <summary>An image model: "image" float [N,3,8,8] -> "mean" [N,3], the mean of each plane.</summary>
    public static string Image => s_image.Value;

    private static OnnxModelBuilder Deep()
    {
        const int width = 256, layers = 24;
        var random = new Random(31);
        float[] W(int n, float scale) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1) * scale).ToArray();
        var builder = new OnnxModelBuilder()
            .Input("features", OnnxType.Float, "N", Inputs.Features)
            .Initializer("w_in", W(Inputs.Features * width, 0.2f), Inputs.Features, width)
            .Node("MatMul", ["features", "w_in"], ["h0"]);
        for (var l = 0; l < layers; l++)
        {
            builder.Initializer($"w{l}", W(width * width, 0.1f), width, width)
                .Node("MatMul", [$"h{l}", $"w{l}"], [$"m{l}"])
                .Node("Relu", [$"m{l}"], [$"h{l + 1}"]);
        }
        return builder.Initializer("w_out", W(width * 3, 0.2f), width, 3)
            .Node("MatMul", [$"h{layers}", "w_out"], ["scores"])
            .Node("Softmax", ["scores"], ["probabilities"], ("axis", 1L))
            .Output("scores", OnnxType.Float, "N", 3)
            .Output("probabilities", OnnxType.Float, "N", 3);
    }

    private static OnnxModelBuilder TinyImage() => new OnnxModelBuilder()
        .Input("image", OnnxType.Float, "N", 3, 8, 8)
        .Node("ReduceMean", ["image"], ["mean"], ("axes", new long[] { 2, 3 }), ("keepdims", 0L))
        .Output("mean", OnnxType.Float, "N", 3);
}
