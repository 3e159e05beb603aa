using Microsoft.ML;
using Microsoft.ML.Data;
using TrtMLNet.Tests.Models;

namespace TrtMLNet.Tests.Support;

public sealed class MlpRow
{
    [ColumnName("features"), VectorType(TestModels.MlpFeatures)]
    public float[] Features { get; set; } = [];

    public int Id { get; set; }
}

public sealed class MultiIoRow
{
    [ColumnName("ids"), VectorType(4)] public long[] Ids { get; set; } = [];
    [ColumnName("dense"), VectorType(8)] public float[] Dense { get; set; } = [];
    [ColumnName("count"), VectorType(1)] public int[] Count { get; set; } = [];
    [ColumnName("flag"), VectorType(1)] public bool[] Flag { get; set; } = [];
    [ColumnName("weights64"), VectorType(2)] public double[] Weights64 { get; set; } = [];
}

public sealed class EncoderRow
{
    public const int Sequence = 12;
    [ColumnName("input_ids"), VectorType(Sequence)] public long[] InputIds { get; set; } = [];
    [ColumnName("attention_mask"), VectorType(Sequence)] public long[] AttentionMask { get; set; } = [];
}

/// <summary>Deterministic rows for the test models, and helpers to read columns back.</summary>
public static class TestData
{
    public static IDataView Mlp(MLContext ml, int rows, int seed = 1)
    {
        var random = new Random(seed);
        return ml.Data.LoadFromEnumerable(Enumerable.Range(0, rows).Select(i => new MlpRow
        {
            Id = i,
            Features = Enumerable.Range(0, TestModels.MlpFeatures).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray(),
        }).ToList());
    }

    public static IDataView MultiIo(MLContext ml, int rows, int seed = 2)
    {
        var random = new Random(seed);
        return ml.Data.LoadFromEnumerable(Enumerable.Range(0, rows).Select(_ => new MultiIoRow
        {
            Ids = Enumerable.Range(0, 4).Select(_ => (long)random.Next(10)).ToArray(),
            Dense = Enumerable.Range(0, 8).Select(_ => (float)random.NextDouble()).ToArray(),
            Count = [random.Next(-3, 4)],
            Flag = [random.Next(2) == 1],
            Weights64 = [random.NextDouble(), -random.NextDouble()],
        }).ToList());
    }

    public static IDataView Encoder(MLContext ml, int rows, int seed = 3)
    {
        var random = new Random(seed);
        return ml.Data.LoadFromEnumerable(Enumerable.Range(0, rows).Select(_ =>
        {
            var length = random.Next(1, EncoderRow.Sequence + 1);
            return new EncoderRow
            {
                InputIds = Enumerable.Range(0, EncoderRow.Sequence).Select(i => i < length ? (long)random.Next(TestModels.EncoderVocabulary) : 0L).ToArray(),
                AttentionMask = Enumerable.Range(0, EncoderRow.Sequence).Select(i => i < length ? 1L : 0L).ToArray(),
            };
        }).ToList());
    }

    /// <summary>The rows in memory, so cursors are cheap and can be split (cursor sets).</summary>
    public static IDataView Cached(MLContext ml, IDataView data) => ml.Data.Cache(data);

    /// <summary>Every row's value of a vector column.</summary>
    public static List<T[]> Column<T>(IDataView data, string name)
    {
        var column = data.Schema[name];
        var values = new List<T[]>();
        using var cursor = data.GetRowCursor([column]);
        var getter = cursor.GetGetter<VBuffer<T>>(column);
        var buffer = default(VBuffer<T>);
        while (cursor.MoveNext())
        {
            getter(ref buffer);
            values.Add(buffer.DenseValues().ToArray());
        }
        return values;
    }

    public static List<T> Scalars<T>(IDataView data, string name)
    {
        var column = data.Schema[name];
        var values = new List<T>();
        using var cursor = data.GetRowCursor([column]);
        var getter = cursor.GetGetter<T>(column);
        T value = default!;
        while (cursor.MoveNext())
        {
            getter(ref value);
            values.Add(value);
        }
        return values;
    }

    /// <summary>Asserts two sets of rows agree value by value within a relative tolerance (with a tiny absolute floor).</summary>
    public static void AssertClose(IReadOnlyList<float[]> expected, IReadOnlyList<float[]> actual, double relative, string what)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var row = 0; row < expected.Count; row++)
        {
            Assert.Equal(expected[row].Length, actual[row].Length);
            for (var i = 0; i < expected[row].Length; i++)
            {
                double e = expected[row][i], a = actual[row][i];
                if (double.IsNaN(e) && double.IsNaN(a)) continue;
                var tolerance = relative * Math.Max(Math.Abs(e), 1e-6);
                Assert.True(Math.Abs(e - a) <= tolerance, $"{what}: row {row} value {i}: expected {e}, got {a} (tolerance {tolerance}).");
            }
        }
    }
}

public static class Schemas
{
    /// <summary>ML.NET's SchemaShape.Create is internal; estimators' schema checks are still worth testing.</summary>
    public static SchemaShape ShapeOf(DataViewSchema schema) =>
        (SchemaShape)typeof(SchemaShape).GetMethod("Create", System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public)!
            .Invoke(null, [schema])!;
}
