using TrtMLNet.Onnx;

namespace TrtMLNet.Backends;

/// <summary>The model an engine is made from: ONNX bytes, checked to be ONNX, and a name for messages.</summary>
internal sealed record ModelSource(byte[] OnnxBytes, OnnxModelFile Onnx, string Name)
{
    /// <summary>Reads and checks an ONNX file; every failure names the file.</summary>
    public static ModelSource Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var full = Path.GetFullPath(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(full);
        }
        catch (FileNotFoundException e)
        {
            throw new FileNotFoundException($"The ONNX model file '{full}' does not exist.", full, e);
        }
        catch (DirectoryNotFoundException e)
        {
            throw new FileNotFoundException($"The ONNX model file '{full}' does not exist: its folder is missing.", full, e);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new IOException($"The ONNX model file '{full}' cannot be read: {e.Message}", e);
        }
        return FromBytes(bytes, $"'{full}'");
    }

    /// <summary>Checks ONNX bytes that came from elsewhere (a saved ML.NET model, say).</summary>
    public static ModelSource FromBytes(byte[] bytes, string name)
    {
        if (bytes.Length == 0)
            throw new InvalidDataException($"The ONNX model {name} is empty (0 bytes).");
        return new ModelSource(bytes, OnnxModelReader.Read(bytes, $"The model {name}"), name);
    }
}
