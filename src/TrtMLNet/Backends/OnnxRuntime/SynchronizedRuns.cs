using System.Globalization;
using Microsoft.ML.OnnxRuntime;

namespace TrtMLNet.Backends.OnnxRuntime;

/// <summary>
/// Run options under which a run returns only once its own work on the device is done, so a lane can copy
/// the outputs back (or hand the device buffers on) without waiting for anything else.
///
/// ONNX Runtime does that by default: at the end of a run it synchronizes the streams the run used
/// (run option <c>disable_synchronize_execution_providers</c> = 0; a CUDA graph replay synchronizes its stream
/// too). It is set here explicitly because the lanes rely on it. What they must not do is call
/// <c>SynchronizeBoundOutputs</c>: for the CUDA provider that is <c>cudaDeviceSynchronize</c>
/// (CUDAExecutionProvider::Sync), which waits for every stream of the process. Each lane's batch would then
/// wait for the other lanes' work, and lanes would not overlap (docs/benchmarks.md, sixth session, has the
/// H200's figures before and after the call was dropped).
/// </summary>
internal static class SynchronizedRuns
{
    private const string DisableSynchronize = "disable_synchronize_execution_providers";

    /// <summary>Run options for a plain run, or for CUDA graph <paramref name="graphId"/> (-1: a run that must not be captured).</summary>
    public static RunOptions Create(int? graphId = null)
    {
        var options = new RunOptions();
        options.AddRunConfigEntry(DisableSynchronize, "0");
        if (graphId is { } id)
            options.AddRunConfigEntry("gpu_graph_id", id.ToString(CultureInfo.InvariantCulture));
        return options;
    }
}
