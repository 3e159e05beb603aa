namespace TrtMLNet.Onnx;

/// <summary>
/// What TrtMLNet knows of an ONNX model without loading it (<see cref="OnnxModelReader"/> reads it):
/// that the bytes are an ONNX model at all, the size of its weights (initializers), its inputs and
/// outputs, and its metadata properties, where TrtMLNet keeps its settings when a pipeline is saved.
/// </summary>
internal sealed class OnnxModelFile
{
    internal OnnxModelFile(long irVersion, long initializerBytes, int initializerCount, IReadOnlyDictionary<string, string> metadata,
        IReadOnlyList<TensorInfo> inputs, IReadOnlyList<TensorInfo> outputs)
    {
        Inputs = inputs;
        Outputs = outputs;
        IrVersion = irVersion;
        InitializerBytes = initializerBytes;
        InitializerCount = initializerCount;
        Metadata = metadata;
    }

    public long IrVersion { get; }

    /// <summary>Bytes of all initializers (the weights) as the file states them, external data included.</summary>
    public long InitializerBytes { get; }

    public int InitializerCount { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The graph's inputs that are fed at run time (initializers listed as inputs by old exporters are left out).</summary>
    public IReadOnlyList<TensorInfo> Inputs { get; }

    public IReadOnlyList<TensorInfo> Outputs { get; }
}
