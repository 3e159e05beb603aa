using Microsoft.ML;
using Microsoft.ML.Data;
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

    private static float[][] Rows(int count) =>
        Enumerable.Range(0, count).Select(r => Enumerable.Range(0, Features).Select(i => (i % 7 == 0 ? r : 0) + 0.5f).ToArray()).ToArray();

    private static float Expected(float[] row) => row.Sum();

    [Fact]
    public void RowsComeOutRightCursorAfterCursor()
    {
        var ml = new MLContext(seed: 1);
        var rows = Rows(23);
        var data = ml.Data.Cache(new VectorSource(rows, lend: false));
        using var model = ml.Transforms.ApplyTensorRt(new TensorRtOptions { ModelFile = SumModel(), Backend = TensorRtBackend.OnnxRuntimeCpu, BatchSize = 8 }).Fit(data);
        for (var pass = 0; pass < 3; pass++)
        {
            var sums = ml.Data.CreateEnumerable<Sum>(model.Transform(data), reuseRowObject: false).Select(s => s.Value[0]).ToArray();
            Assert.Equal(rows.Select(Expected), sums, (a, b) => Math.Abs(a - b) <= 1e-3f * Math.Abs(a));
        }
    }

    [Fact]
    public void ASourceLendingItsArraysIsNeverWritten()
    {
        var ml = new MLContext(seed: 1);
        var rows = Rows(19);
        var copies = rows.Select(r => (float[])r.Clone()).ToArray();
        var lending = new VectorSource(rows, lend: true);
        var copying = ml.Data.Cache(new VectorSource(Rows(19).Reverse().ToArray(), lend: false));
        using var model = ml.Transforms.ApplyTensorRt(new TensorRtOptions { ModelFile = SumModel(), Backend = TensorRtBackend.OnnxRuntimeCpu, BatchSize = 8 }).Fit(lending);
        // Alternate the sources, so a pooled set that held lent arrays serves a copying getter next.
        for (var pass = 0; pass < 2; pass++)
        {
            var lent = ml.Data.CreateEnumerable<Sum>(model.Transform(lending), reuseRowObject: false).Select(s => s.Value[0]).ToArray();
            var copied = ml.Data.CreateEnumerable<Sum>(model.Transform(copying), reuseRowObject: false).Select(s => s.Value[0]).ToArray();
            Assert.Equal(rows.Select(Expected), lent, (a, b) => Math.Abs(a - b) <= 1e-3f * Math.Abs(a));
            Assert.Equal(rows.Reverse().Select(Expected), copied, (a, b) => Math.Abs(a - b) <= 1e-3f * Math.Abs(a));
        }
        for (var r = 0; r < rows.Length; r++)
            Assert.True(rows[r].AsSpan().SequenceEqual(copies[r]), $"Row {r} of the lending source was written.");
    }

    private sealed class Sum
    {
        [ColumnName("sum"), VectorType(1)] public float[] Value { get; set; } = [];
    }

    /// <summary>One float vector column "x"; its getter copies into the caller's buffer, or lends the row's array.</summary>
    private sealed class VectorSource(float[][] rows, bool lend) : IDataView
    {
        public bool CanShuffle => false;

        public DataViewSchema Schema { get; } = MakeSchema();

        public long? GetRowCount() => _rows.Length;

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) => new Cursor(this);

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => [new Cursor(this)];

        private static DataViewSchema MakeSchema()
        {
            var builder = new DataViewSchema.Builder();
            builder.AddColumn("x", new VectorDataViewType(NumberDataViewType.Single, Features));
            return builder.ToSchema();
        }

        private sealed class Cursor(VectorSource source) : DataViewRowCursor
        {
            private int _row = -1;

            public override DataViewSchema Schema => source.Schema;

            public override long Position => _row;

            public override long Batch => 0;

            public override bool IsColumnActive(DataViewSchema.Column column) => true;

            public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = new DataViewRowId((ulong)_row, 0);

            public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) =>
                (ValueGetter<TValue>)(Delegate)new ValueGetter<VBuffer<float>>((ref VBuffer<float> value) =>
                {
                    var row = source._rows[_row];
                    if (source._lend)
                    {
                        value = new VBuffer<float>(row.Length, row);
                        return;
                    }
                    var editor = VBufferEditor.Create(ref value, row.Length);
                    row.CopyTo(editor.Values);
                    value = editor.Commit();
                });

            public override bool MoveNext() => ++_row < source._rows.Length;
        }

        private readonly float[][] _rows = rows;
        private readonly bool _lend = lend;
    }
}
