using Microsoft.ML;
using Microsoft.ML.Data;

namespace BatchScoring.InputSources;

/// <summary>
/// Hidden columns every input adds to its rows. They pass through the TensorRT stage with the row, so
/// the writer knows, for the last row of a committed part, where in the input a resumed run starts,
/// and it sums the missing cells of exactly the rows it wrote (the readers run ahead of the writer).
/// </summary>
public static class RowTracking
{
    /// <summary>long: the row's position in the input: its line number (CSV), row index (Parquet) or file index (images).</summary>
    public const string Row = "__row";

    /// <summary>long: where the next row starts: the byte offset after the line (CSV), else the row index + 1.</summary>
    public const string ResumeAt = "__resume_at";

    /// <summary>int: empty, null or NaN cells of float inputs in the row (fed as NaN).</summary>
    public const string Missing = "__missing";

    public static readonly string[] Names = [Row, ResumeAt, Missing];

    public static void AddColumns(DataViewSchema.Builder builder)
    {
        builder.AddColumn(Row, NumberDataViewType.Int64);
        builder.AddColumn(ResumeAt, NumberDataViewType.Int64);
        builder.AddColumn(Missing, NumberDataViewType.Int32);
    }
}

/// <summary>
/// Where a reader starts. A fresh run starts at the beginning of its shard; a resumed one right after
/// the last row the committed parts hold.
/// </summary>
/// <param name="ResumeAt">The committed last row's <see cref="RowTracking.ResumeAt"/>.</param>
/// <param name="NextRow">The row position (CSV: line number) of the row found there.</param>
public sealed record ResumePoint(long ResumeAt, long NextRow);
