using Microsoft.ML.OnnxRuntime;

namespace TrtMLNet.Backends.OnnxRuntime;

/// <summary>
/// One ONNX Runtime session of an engine, and the batch size it runs when the engine is tuned per size
/// (null: any size). Keeping one shape per session is what spares ONNX Runtime CUDA its cuDNN set-up
/// and algorithm search on every change of batch size.
/// </summary>
internal sealed class SizedSession(InferenceSession session, int? rows, CudaGraphRuns? graphs) : IDisposable
{
    public InferenceSession Session { get; } = session;

    public int? Rows { get; } = rows;

    public CudaGraphRuns? Graphs { get; } = graphs;

    public void Dispose()
    {
        Graphs?.Dispose();
        Session.Dispose();
    }
}
