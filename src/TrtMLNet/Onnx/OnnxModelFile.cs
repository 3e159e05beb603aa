namespace TrtMLNet.Onnx;

/// <summary>
/// What TrtMLNet knows of an ONNX model without loading it (<see cref="OnnxModelReader"/> reads it):
/// that the bytes are an ONNX model at all, the size of its weights (initializers), its inputs and
/// outputs, and its metadata properties, where TrtMLNet keeps its settings when a pipeline is saved.
/// </summary>
/// <param name="IrVersion">The ONNX IR version.</param>
/// <param name="InitializerBytes">Bytes of all initializers (the weights) as the file states them, external data included.</param>
/// <param name="InitializerCount">How many initializers there are.</param>
/// <param name="Metadata">The model's metadata properties.</param>
/// <param name="Inputs">The graph's inputs that are fed at run time (initializers listed as inputs by old exporters are left out).</param>
/// <param name="Outputs">The graph's outputs.</param>
/// <param name="OpTypes">The op types of the main graph's nodes (subgraphs' are not read).</param>
internal sealed record OnnxModelFile(
    long IrVersion,
    long InitializerBytes,
    int InitializerCount,
    IReadOnlyDictionary<string, string> Metadata,
    IReadOnlyList<TensorInfo> Inputs,
    IReadOnlyList<TensorInfo> Outputs,
    IReadOnlySet<string> OpTypes);
