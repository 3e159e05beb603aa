using Microsoft.ML;
using Microsoft.ML.Data;
using TrtMLNet.Benchmarks;
using TrtMLNet.Tests.Models;

namespace TrtMLNet.Tests;

/// <summary>
/// Inputs of 256 KiB a row and more are read into per-row arrays kept between cursors, then copied into
/// staging on every core. Rows must come out right cursor after cursor, and a source that lends its own
/// arrays to the getter must never see them written.
/// </summary>
public class LargeRowTests
{
    private const int Features = 80_000; // 320 KB of floats a row

    private static string SumModel() => new OnnxModelBuilder()
        .Input("x", OnnxType.Float, "N", Features)
        .Initializer("axes", new long[] { 1 }, 1)
        .Node("ReduceSum", ["x", "axes"], ["sum"], ("keepdims", 1L))
        .Output("sum", OnnxType.Float, "N", 1)
        .Save(Path.Combine(TestModels.Folder, "large-row-sum.onnx"));

    private static InMemoryVectors Source(float[][] rows, RowSupply supply)
    {
        var builder = new DataViewSchema.Builder();
        builder.AddColumn("x", new VectorDataViewType(NumberDataViewType.Single, Features));
        return new InMemoryVectors(builder.ToSchema(), rows, supply);
    }

    private static float[][] Rows(int count) =>
        Enumerable.Range(0, count).Select(r => Enumerable.Range(0, Features).Select(i => (i % 7 == 0 ? r : 0) + 0.5f).ToArray()).ToArray();

    private static float Expected(float[] row) => row.Sum();

    private static TensorRtTransformer Fit(MLContext ml, IDataView data) =>
        ml.Transforms.ApplyTensorRt(new TensorRtOptions { ModelFile = SumModel(), Backend = TensorRtBackend.OnnxRuntimeCpu, BatchSize = 8 }).Fit(data);

    private static float[] Sums(MLContext ml, ITransformer model, IDataView data) =>
        ml.Data.CreateEnumerable<Sum>(model.Transform(data), reuseRowObject: false).Select(s => s.Value[0]).ToArray();

    private static void AssertUnwritten(float[][] rows, float[][] copies)
    {
        for (var r = 0; r < rows.Length; r++)
            Assert.True(rows[r].AsSpan().SequenceEqual(copies[r]), $"Row {r} of the lending source was written.");
    }

    [Fact]
    public void RowsComeOutRightCursorAfterCursor()
    {
        var ml = new MLContext(seed: 1);
        var rows = Rows(23);
        var data = ml.Data.Cache(Source(rows, RowSupply.Copy));
        using var model = Fit(ml, data);
        for (var pass = 0; pass < 3; pass++)
        {
            var sums = Sums(ml, model, data);
            Assert.Equal(rows.Select(Expected), sums, (a, b) => Math.Abs(a - b) <= 1e-3f * Math.Abs(a));
        }
    }

    [Fact]
    public void ASourceLendingItsArraysIsNeverWritten()
    {
        var ml = new MLContext(seed: 1);
        var rows = Rows(19);
        var copies = rows.Select(r => (float[])r.Clone()).ToArray();
        var lending = Source(rows, RowSupply.GetterLends);
        var copying = ml.Data.Cache(Source(Rows(19).Reverse().ToArray(), RowSupply.Copy));
        using var model = Fit(ml, lending);
        // Alternate the sources, so a pooled set that held lent arrays serves a copying getter next.
        for (var pass = 0; pass < 2; pass++)
        {
            var lent = Sums(ml, model, lending);
            var copied = Sums(ml, model, copying);
            Assert.Equal(rows.Select(Expected), lent, (a, b) => Math.Abs(a - b) <= 1e-3f * Math.Abs(a));
            Assert.Equal(rows.Reverse().Select(Expected), copied, (a, b) => Math.Abs(a - b) <= 1e-3f * Math.Abs(a));
        }
        AssertUnwritten(rows, copies);
    }

    [Fact]
    public void ALendingRowSkipsTheGetterAndItsArraysAreNeverWritten()
    {
        var ml = new MLContext(seed: 1);
        var rows = Rows(21);
        var copies = rows.Select(r => (float[])r.Clone()).ToArray();
        var lender = Source(rows, RowSupply.Lender);
        using var model = Fit(ml, lender);
        var before = lender.GetterCalls;
        for (var pass = 0; pass < 2; pass++)
        {
            var sums = Sums(ml, model, lender);
            Assert.Equal(rows.Select(Expected), sums, (a, b) => Math.Abs(a - b) <= 1e-3f * Math.Abs(a));
        }
        Assert.Equal(before, lender.GetterCalls);
        AssertUnwritten(rows, copies);
    }

    [Fact]
    public void ALentArrayOfTheWrongLengthIsReportedAsTheGetterWouldBe()
    {
        var ml = new MLContext(seed: 1);
        var rows = Rows(5);
        rows[3] = rows[3][..^1];
        var lender = Source(rows, RowSupply.Lender);
        using var model = Fit(ml, Source(Rows(1), RowSupply.Copy));
        var error = Assert.ThrowsAny<Exception>(() => ml.Data.CreateEnumerable<Sum>(model.Transform(lender), reuseRowObject: false).ToArray());
        Assert.Contains("Row 3: column 'x' has 79999 values", error.ToString());
    }

    private sealed class Sum
    {
        [ColumnName("sum"), VectorType(1)] public float[] Value { get; set; } = [];
    }
}
