namespace TrtMLNet;

/// <summary>
/// An image could not be read or decoded. <see cref="ImageSource"/> says which one (its file path, or the row and
/// column it came from) and the message says what is wrong with it and what to do.
/// </summary>
public sealed class ImageDecodeException : Exception
{
    public ImageDecodeException(string source, ImageDecodeFailure failure, string reason, Exception? inner = null)
        : base($"Cannot use the image {source}: {reason}", inner)
    {
        ImageSource = source;
        Failure = failure;
        Reason = reason;
    }

    /// <summary>Where the image came from: a file path, or "row N of column C".</summary>
    public string ImageSource { get; }

    /// <summary>What kind of problem it is.</summary>
    public ImageDecodeFailure Failure { get; }

    /// <summary>What is wrong, in words, without the source.</summary>
    public string Reason { get; }
}

/// <summary>The kinds of problems an image can have.</summary>
public enum ImageDecodeFailure
{
    /// <summary>The file could not be read (missing, no permission, I/O error).</summary>
    Unreadable = 0,

    /// <summary>The file or value is empty (zero bytes, or a missing value).</summary>
    Empty,

    /// <summary>The bytes are not an image in any format the decoder knows.</summary>
    NotAnImage,

    /// <summary>The image ends before all its pixels (a truncated download or copy).</summary>
    Truncated,

    /// <summary>The image's data is damaged.</summary>
    Corrupt,

    /// <summary>A valid image in a form the decoder cannot turn into RGB pixels.</summary>
    Unsupported,
}
