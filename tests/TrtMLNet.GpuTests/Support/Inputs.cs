using Microsoft.ML;
using Microsoft.ML.Data;

namespace TrtMLNet.GpuTests.Support;

/// <summary>Random images (CHW floats, as ExtractPixels gives after normalization) for CNNs.</summary>
internal static class Images
{
    public static IDataView Random(MLContext ml, int rows, string column, int seed = 50)
    {
        var random = new Random(seed);
        var schema = new DataViewSchema.Builder();
        schema.AddColumn(column, new VectorDataViewType(NumberDataViewType.Single, 3, 224, 224));
        var values = Enumerable.Range(0, rows).Select(_ => Enumerable.Range(0, 3 * 224 * 224).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()).ToList();
        return ml.Data.LoadFromEnumerable(values.Select(v => new ImageRow { Pixels = v }), SchemaDefinitionFor(column));
    }

    private static SchemaDefinition SchemaDefinitionFor(string column)
    {
        var definition = SchemaDefinition.Create(typeof(ImageRow));
        definition[0].ColumnName = column;
        definition[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3, 224, 224);
        return definition;
    }

    private sealed class ImageRow
    {
        public float[] Pixels { get; set; } = [];
    }
}

/// <summary>Random token ids with a ragged attention mask, for BERT-style encoders.</summary>
internal static class Tokens
{
    public static IDataView Random(MLContext ml, int rows, int sequence, int seed = 51)
    {
        var random = new Random(seed);
        var data = Enumerable.Range(0, rows).Select(_ =>
        {
            var length = random.Next(8, sequence + 1);
            return new TokenRow
            {
                Ids = Enumerable.Range(0, sequence).Select(i => i < length ? (long)random.Next(1000, 30000) : 0L).ToArray(),
                Mask = Enumerable.Range(0, sequence).Select(i => i < length ? 1L : 0L).ToArray(),
            };
        });
        var definition = SchemaDefinition.Create(typeof(TokenRow));
        definition[0].ColumnName = "input_ids";
        definition[0].ColumnType = new VectorDataViewType(NumberDataViewType.Int64, sequence);
        definition[1].ColumnName = "attention_mask";
        definition[1].ColumnType = new VectorDataViewType(NumberDataViewType.Int64, sequence);
        return ml.Data.LoadFromEnumerable(data, definition);
    }

    private sealed class TokenRow
    {
        public long[] Ids { get; set; } = [];
        public long[] Mask { get; set; } = [];
    }
}
