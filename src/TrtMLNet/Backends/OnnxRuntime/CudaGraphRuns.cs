using Microsoft.ML.OnnxRuntime;

namespace TrtMLNet.Backends.OnnxRuntime;

/// <summary>
/// ONNX Runtime CUDA's graph capture for one session. A captured graph replays the kernels with the
/// addresses and shapes it was captured with, so each lane's IO buffers get a graph of their own
/// (gpu_graph_id, one per distinct set of bound addresses), and only batches of the session's size are
/// captured: any other batch (a last, shorter one on a session for any size) runs uncaptured
/// (gpu_graph_id -1) rather than costing a capture used once.
/// ONNX Runtime does not support running a session with CUDA graphs from several threads at once, so
/// runs on such a session take turns; the lanes' copies still overlap them.
/// </summary>
internal sealed class CudaGraphRuns(int capturedRows) : IDisposable
{
    private readonly Dictionary<string, RunOptions> _graphs = [];
    /// <summary>Run options for a run that must not be captured (gpu_graph_id -1).</summary>
    public RunOptions Uncaptured { get; } = SynchronizedRuns.Create(graphId: -1);

    /// <summary>Held around every run of the session.</summary>
    public Lock Turn { get; } = new();

    /// <summary>Run options naming the graph for this request's addresses and shapes. Call holding <see cref="Turn"/>.</summary>
    public RunOptions For(ExecutionRequest request)
    {
        if (request.Inputs.Length == 0 || request.Inputs[0].Shape is not [var rows, ..] || rows != capturedRows)
            return Uncaptured;
        var key = string.Join(",", request.Inputs.Concat(request.Outputs).Select(t => $"{t.Data:x}:{string.Join("x", t.Shape)}"));
        if (!_graphs.TryGetValue(key, out var options))
            _graphs[key] = options = SynchronizedRuns.Create(_graphs.Count);
        return options;
    }

    public int Captured => _graphs.Count;

    public void Dispose()
    {
        foreach (var options in _graphs.Values)
            options.Dispose();
        Uncaptured.Dispose();
    }
}
