using Microsoft.ML;
using Microsoft.ML.Data;

namespace TrtMLNet.Tests.Support;

/// <summary>Rows for a <see cref="MarkingEngine"/> of width <see cref="Width"/>: a column x, row i holding [i, 1, 2, ..., 7].</summary>
internal static class MarkingRows
{
    public const int Width = 8;

    public sealed class Row
    {
        [VectorType(Width)] public float[] x { get; set; } = new float[Width];
    }

    public static IDataView Of(int count) =>
        new MLContext(seed: 1).Data.LoadFromEnumerable(Enumerable.Range(0, count).Select(i => new Row { x = [i, 1, 2, 3, 4, 5, 6, 7] }).ToList());
}
