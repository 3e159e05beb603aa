namespace TrtMLNet.Images;

/// <summary>Image files named by a column: where a path points, and reading one with errors that say what is wrong.</summary>
internal static class ImageFiles
{
    /// <summary>The file a column's path names (relative paths resolve against the folder), and how messages name it.</summary>
    public static (string Path, string Source) Locate(string path, string? folder, long row, string column)
    {
        var full = folder is null ? path : Path.Combine(folder, path);
        return (full, $"'{full}' (row {row} of column '{column}')");
    }

    /// <summary>
    /// Reads a whole file into the span <paramref name="buffer"/> gives for its length, and returns the bytes
    /// read (fewer if the file shrank meanwhile: decoding them reports the image as cut off).
    /// </summary>
    public static int ReadInto(string path, string source, string? folder, Func<int, Span<byte>> buffer)
    {
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            long length = RandomAccess.GetLength(handle);
            if (length > Array.MaxLength)
                throw new ImageDecodeException(source, ImageDecodeFailure.Unsupported, $"the file is {length} bytes, too large to be one image.");
            var target = buffer((int)length);
            int read = 0;
            while (read < length)
            {
                int n = RandomAccess.Read(handle, target[read..(int)length], read);
                if (n == 0)
                    break;
                read += n;
            }
            return read;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            string where = folder is null
                ? $"relative paths resolve against the current directory, {Environment.CurrentDirectory}; set ImageFolder if they are relative to another folder"
                : $"relative paths resolve against ImageFolder '{folder}'";
            throw new ImageDecodeException(source, ImageDecodeFailure.Unreadable, $"there is no such file ({where}).", e);
        }
        catch (UnauthorizedAccessException e) when (Directory.Exists(path))
        {
            throw new ImageDecodeException(source, ImageDecodeFailure.Unreadable, "it is a folder, not an image file.", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ImageDecodeException(source, ImageDecodeFailure.Unreadable, $"it cannot be read: {e.Message}", e);
        }
        catch (IOException e)
        {
            throw new ImageDecodeException(source, ImageDecodeFailure.Unreadable, $"reading it failed: {e.Message}", e);
        }
    }
}
