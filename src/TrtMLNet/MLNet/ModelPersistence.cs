using System.IO.Compression;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Onnx;
using TrtMLNet.Backends;

namespace TrtMLNet;

/// <summary>
/// Saving and loading. ML.NET's model-writing API is internal, so a TensorRtTransformer saves itself as
/// the ML.NET <c>OnnxTransformer</c> over the same ONNX bytes: the model file then loads anywhere
/// ML.NET does (as a row-by-row OnnxTransformer, on the CPU or MLContext's GPU). TrtMLNet's options
/// travel inside those ONNX bytes as a metadata property, so <see cref="LoadWithTensorRt"/> can turn
/// each such stage back into a TensorRtTransformer. Engines are not stored: they are rebuilt (or taken
/// from the engine cache) for the GPU at hand.
/// </summary>
public static class ModelPersistence
{
    /// <summary>The ONNX metadata key under which the options are stored.</summary>
    public const string OptionsMetadataKey = "trtmlnet.options";

    internal static void Save(TensorRtTransformer transformer, ModelSaveContext ctx)
    {
        var shapes = transformer.Fitted.Shapes;
        var half = shapes.Inputs.Select(i => i.Tensor).Concat(shapes.Outputs.Select(o => o.Tensor))
            .FirstOrDefault(t => t.ElementType is TensorElementType.Float16 or TensorElementType.BFloat16);
        if (half is not null)
            throw new NotSupportedException(
                $"The model's tensor {half} is {half.TypeName}, which ML.NET's OnnxTransformer (what a saved ApplyTensorRt stage is stored as) cannot take. " +
                "Export the model with float32 inputs and outputs and ask for Precision = Fp16 instead: TrtMLNet then rewrites it to float16 inside, " +
                "keeping float columns at its edges, and it saves.");
        var options = JsonSerializer.Serialize(transformer.Options, SavedOptionsContext.Default.TensorRtOptions);
        var bytes = Onnx.OnnxModelEditor.WithMetadata(transformer.Model.OnnxBytes, OptionsMetadataKey, options);

        // OnnxTransformer forces the batch dimension to 1 and allows only one other open dimension, so
        // every input's row shape is written down: models with open sequence lengths then load too.
        var shapeDictionary = shapes.Inputs.ToDictionary(i => i.Tensor.Name, i => ModelShapes(i));
        var context = new MLContext();
        var estimator = context.Transforms.ApplyOnnxModel(
            shapes.Outputs.Select(o => o.Tensor.Name).ToArray(),
            // An image input is stored as its tensor: plain ML.NET loads it fed with pixels; LoadWithTensorRt decodes images again.
            shapes.Inputs.Select(i => i.Tensor.Name).ToArray(),
            new MemoryStream(bytes),
            shapeDictionary,
            gpuDeviceId: null,
            fallbackToCpu: false,
            recursionLimit: 100);
        var schema = new DataViewSchema.Builder();
        foreach (var input in shapes.Inputs)
            schema.AddColumn(input.Tensor.Name, new VectorDataViewType(input.Tensor.ElementType.ToDataViewType(), checked((int)input.RowElements)));
        using var standIn = estimator.Fit(new EmptyDataView(schema.ToSchema()));
        ((ICanSaveModel)standIn).Save(ctx);
    }

    private static int[] ModelShapes(Scoring.InputShape input) =>
        input.Tensor.Rank == 0 ? [] : [1, .. input.RowShape.Select(d => checked((int)d))];

    /// <summary>
    /// Loads a model saved with <c>mlContext.Model.Save</c> and turns every stage that was an
    /// <c>ApplyTensorRt</c> back into a <see cref="TensorRtTransformer"/>, with its saved options
    /// (<paramref name="configure"/> may change them, e.g. the backend or the device). Other stages load
    /// as ML.NET loads them.
    /// </summary>
    public static ITransformer LoadWithTensorRt(this ModelOperationsCatalog catalog, string path, out DataViewSchema inputSchema,
        Action<TensorRtOptions>? configure = null)
    {
        var env = HostEnvironment.From(catalog);
        var loaded = catalog.Load(path, out inputSchema);
        using var zip = ZipFile.OpenRead(path);
        // ML.NET stores the model under "TransformerChain/", and a chain's stages under "Transform_NNN/" of it.
        return Replace(env, loaded, inputSchema, zip, "TransformerChain/", configure);
    }

    // The schema is null when the model was saved without one (Save(model, null, path)), or after a stage
    // whose output schema needs it: each stage is then bound to the columns its saved options name.
    private static ITransformer Replace(HostEnvironment env, ITransformer loaded, DataViewSchema? schema, ZipArchive zip, string prefix, Action<TensorRtOptions>? configure)
    {
        if (loaded is TransformerChain<ITransformer> chain)
        {
            var stages = new List<ITransformer>();
            var index = 0;
            foreach (var stage in chain)
            {
                var replaced = Replace(env, stage, schema, zip, $"{prefix}Transform_{index:000}/", configure);
                schema = schema is null ? null : replaced.GetOutputSchema(schema);
                stages.Add(replaced);
                index++;
            }
            return new TransformerChain<ITransformer>([.. stages]);
        }
        if (loaded is not OnnxTransformer onnx)
            return loaded;
        if (zip.GetEntry(prefix + "OnnxModel") is not { } entry)
            return loaded;
        var bytes = ReadOnnxEntry(entry);
        var model = ModelSource.FromBytes(bytes, $"'{entry.FullName}' in the saved model");
        if (!model.Onnx.Metadata.TryGetValue(OptionsMetadataKey, out var saved))
            return loaded;
        var options = JsonSerializer.Deserialize(saved, SavedOptionsContext.Default.TensorRtOptions)!;
        // A model saved on a GPU machine should still load on one without, unless CPU was ruled out outright.
        options.FallbackToCpu ??= true;
        configure?.Invoke(options);
        options.Validate();
        var transformer = TensorRtTransformer.Create(env, options, model,
            schema is null ? SavedColumnTypes(options, model) : name => schema.GetColumnOrNull(name)?.Type);
        onnx.Dispose();
        return transformer;
    }

    /// <summary>
    /// The input columns as the stage was saved: an image input's column holds paths, any other input
    /// column a vector of its tensor's type and per-row size (variable where the model leaves a dimension open).
    /// </summary>
    private static Func<string, DataViewType?> SavedColumnTypes(TensorRtOptions options, ModelSource model)
    {
        var imageColumns = options.ImageInputs?.Select(p => p.Value.Column ?? p.Key).ToHashSet() ?? [];
        return name => imageColumns.Contains(name) ? TextDataViewType.Instance : TensorColumnType(model, name);
    }

    private static DataViewType? TensorColumnType(ModelSource model, string name)
    {
        var tensor = model.Onnx.Inputs.FirstOrDefault(t => t.Name == name);
        if (tensor is null)
            return null;
        var row = tensor.Rank == 0 ? [] : tensor.Shape[1..];
        var size = row.All(d => d > 0) ? checked((int)row.Aggregate(1L, (a, d) => a * d)) : 0;
        return new VectorDataViewType(tensor.ElementType.ToDataViewType(), size);
    }

    /// <summary>OnnxTransformer writes the bytes behind a 4-byte little-endian length.</summary>
    private static byte[] ReadOnnxEntry(ZipArchiveEntry entry)
    {
        using var stream = entry.Open();
        using var reader = new BinaryReader(stream);
        var length = reader.ReadInt32();
        var bytes = reader.ReadBytes(length);
        if (bytes.Length != length)
            throw new InvalidDataException($"'{entry.FullName}' is truncated: it says {length} bytes and holds {bytes.Length}.");
        return bytes;
    }

    /// <summary>A source with a schema and no rows, to fit the stand-in OnnxTransformer.</summary>
    private sealed class EmptyDataView(DataViewSchema schema) : IDataView
    {
        public bool CanShuffle => false;

        public DataViewSchema Schema => schema;

        public long? GetRowCount() => 0;

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
            throw new NotSupportedException("The stand-in is only fitted, never read.");

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
            throw new NotSupportedException("The stand-in is only fitted, never read.");
    }
}

/// <summary>The options as JSON, in the saved model's ONNX metadata (see <see cref="TensorRtOptions"/> for what is left out).</summary>
[System.Text.Json.Serialization.JsonSerializable(typeof(TensorRtOptions))]
[System.Text.Json.Serialization.JsonSourceGenerationOptions(UseStringEnumConverter = true)]
internal sealed partial class SavedOptionsContext : System.Text.Json.Serialization.JsonSerializerContext;
