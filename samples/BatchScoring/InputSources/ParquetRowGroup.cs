namespace BatchScoring.InputSources;

/// <summary>A row group to read: its index in the file, its first row's index in the file, its rows, and how many leading rows to skip (a resumed run).</summary>
public sealed record ParquetGroupRange(int Index, long FirstRow, long Rows, long Skip);

/// <summary>
/// What loading one row group found, row by row: which rows are bad (and why) and how many missing
/// float cells each holds. The column loaders fill it; the cursor skips and reports the bad rows.
/// </summary>
public sealed class RowGroupIssues
{
    private readonly Dictionary<int, BadRow> _bad = [];

    public RowGroupIssues(string fileName, ParquetGroupRange group, int rows)
    {
        FileName = fileName;
        Group = group;
        Missing = new int[rows];
    }

    public string FileName { get; }

    public ParquetGroupRange Group { get; }

    /// <summary>Missing (null or NaN) cells of float inputs, per row of the group.</summary>
    public int[] Missing { get; }

    public bool IsBad(int row) => _bad.ContainsKey(row);

    /// <summary>Marks a row bad; the first reason found for it is kept.</summary>
    public void MarkBad(int row, string? column, string? value, string reason) =>
        _bad.TryAdd(row, new BadRow(Group.FirstRow + row, FileName, Where(row), column, value, reason));

    /// <summary>Marks every row of the group bad: the group could not be read.</summary>
    public void MarkAllBad(int rows, string? column, string reason)
    {
        for (var row = 0; row < rows; row++)
            MarkBad(row, column, null, reason);
    }

    public BadRow? BadRowAt(int row) => _bad.GetValueOrDefault(row);

    public string Where(int row) => $"row group {Group.Index}, row {row} (row {Group.FirstRow + row} of the file)";
}
