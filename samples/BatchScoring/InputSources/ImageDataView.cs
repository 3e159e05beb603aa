using Microsoft.ML;
using Microsoft.ML.Data;

namespace BatchScoring.InputSources;

/// <summary>
/// A list of image files as an IDataView: the path relative to the folder, and the
/// <see cref="RowTracking"/> columns. Nothing is read here: TrtMLNet's image input reads and decodes the
/// files while it fills a batch, and reports the ones that do not decode.
/// </summary>
public sealed class ImageDataView : SourceDataView
{
    private readonly IReadOnlyList<string> _files;
    private readonly long _firstIndex;

    /// <param name="files">Paths relative to the folder, in the order to read them.</param>
    /// <param name="firstIndex">The first file's index in the whole (sorted) folder: the row position.</param>
    public ImageDataView(IReadOnlyList<string> files, long firstIndex)
        : base(builder => builder.AddColumn(ImageFolderInput.PathColumn, TextDataViewType.Instance))
    {
        _files = files;
        _firstIndex = firstIndex;
    }

    public override long? GetRowCount() => _files.Count;

    public override DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
        new Cursor(this);

    private sealed class Cursor(ImageDataView view) : SourceCursor(view.Schema)
    {
        private long Row => view._firstIndex + _position;

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            Delegate getter = column.Name switch
            {
                ImageFolderInput.PathColumn => (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> v) => v = view._files[(int)_position].AsMemory()),
                RowTracking.Row => (ValueGetter<long>)((ref long v) => v = Row),
                RowTracking.ResumeAt => (ValueGetter<long>)((ref long v) => v = Row + 1),
                RowTracking.Missing => (ValueGetter<int>)((ref int v) => v = 0),
                _ => throw new InvalidOperationException($"No column '{column.Name}'."),
            };
            return getter as ValueGetter<TValue> ?? throw new InvalidOperationException($"Column '{column.Name}' holds {column.Type}, not {typeof(TValue).Name}.");
        }

        public override bool MoveNext() => ++_position < view._files.Count;
    }
}
