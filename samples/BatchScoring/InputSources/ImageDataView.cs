using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using SkiaSharp;

namespace BatchScoring.InputSources;

/// <summary>
/// A list of image files as an IDataView: the relative path as text, the decoded image (ML.NET's
/// image type, for its resize and pixel transforms), and the <see cref="RowTracking"/> columns.
/// Each file is decoded in full when the cursor reaches it; a file that does not decode completely (a
/// truncated JPEG decodes "successfully" into a half-grey picture in SkiaSharp's Decode, which ML.NET's
/// LoadImages uses) is a bad row, never scored.
/// </summary>
public sealed class ImageDataView : IDataView
{
    public const string ImageColumn = "image";

    private readonly string _folder;
    private readonly IReadOnlyList<string> _files;
    private readonly long _firstIndex;
    private readonly BadRowSink _badRows;

    /// <param name="files">Paths relative to <paramref name="folder"/>, in the order to read them.</param>
    /// <param name="firstIndex">The first file's index in the whole (sorted) folder: the row position.</param>
    public ImageDataView(string folder, IReadOnlyList<string> files, long firstIndex, BadRowSink badRows)
    {
        _folder = folder;
        _files = files;
        _firstIndex = firstIndex;
        _badRows = badRows;
        var builder = new DataViewSchema.Builder();
        builder.AddColumn(ImageFolderInput.PathColumn, TextDataViewType.Instance);
        builder.AddColumn(ImageColumn, new ImageDataViewType());
        RowTracking.AddColumns(builder);
        Schema = builder.ToSchema();
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => null;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
        new Cursor(this);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => [GetRowCursor(columnsNeeded, rand)];

    /// <summary>Decodes a whole file; null and the reason when it is not an image or does not decode completely.</summary>
    public static (SKBitmap? Bitmap, string? Error) Decode(string path)
    {
        using var codec = SKCodec.Create(path, out var created);
        if (codec is null)
            return (null, created == SKCodecResult.IncompleteInput ? Truncated : $"not an image SkiaSharp can read ({created})");
        // What SKBitmap.Decode asks for, so pixels match what ML.NET's LoadImages gave before.
        var info = codec.Info;
        if (info.AlphaType == SKAlphaType.Unpremul)
            info.AlphaType = SKAlphaType.Premul;
        info.ColorType = SKColorType.Bgra8888;
        var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(bitmap.Info, bitmap.GetPixels());
        if (result == SKCodecResult.Success)
            return (bitmap, null);
        bitmap.Dispose();
        return (null, result == SKCodecResult.IncompleteInput ? Truncated : $"the image does not decode ({result})");
    }

    private const string Truncated = "the image data ends early (a truncated file)";

    // Every file is decoded whichever columns are asked for, so every pass over the view skips the same bad files.
    private sealed class Cursor(ImageDataView view) : DataViewRowCursor
    {
        private int _index = -1;
        private long _position = -1;
        private SKBitmap? _bitmap;

        public override DataViewSchema Schema => view.Schema;

        public override long Position => _position;

        public override long Batch => 0;

        public override bool IsColumnActive(DataViewSchema.Column column) => true;

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = new DataViewRowId((ulong)_position, 0);

        private long Row => view._firstIndex + _index;

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            Delegate getter = column.Name switch
            {
                ImageFolderInput.PathColumn => (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> v) => v = view._files[_index].AsMemory()),
                // The consumer's variable holds the image this getter gave last: dispose it, as LoadImages does.
                ImageColumn => (ValueGetter<MLImage>)((ref MLImage v) => { v?.Dispose(); v = Image(); }),
                RowTracking.Row => (ValueGetter<long>)((ref long v) => v = Row),
                RowTracking.ResumeAt => (ValueGetter<long>)((ref long v) => v = Row + 1),
                RowTracking.Missing => (ValueGetter<int>)((ref int v) => v = 0),
                _ => throw new InvalidOperationException($"No column '{column.Name}'."),
            };
            return getter as ValueGetter<TValue> ?? throw new InvalidOperationException($"Column '{column.Name}' holds {column.Type}, not {typeof(TValue).Name}.");
        }

            private MLImage Image() =>
            MLImage.CreateFromPixels(_bitmap!.Width, _bitmap.Height, MLPixelFormat.Bgra32, _bitmap.GetPixelSpan());

        public override bool MoveNext()
        {
            while (++_index < view._files.Count)
            {
                _bitmap?.Dispose();
                _bitmap = null;
                var (bitmap, error) = Decode(Path.Combine(view._folder, view._files[_index]));
                if (bitmap is null)
                {
                    view._badRows.Report(new BadRow(Row, $"'{view._files[_index]}'", $"image {Row + 1} of the folder", null, null, error!));
                    continue;
                }
                _bitmap = bitmap;
                _position++;
                return true;
            }
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                _bitmap?.Dispose();
            base.Dispose(disposing);
        }
    }
}
