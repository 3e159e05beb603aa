using TrtMLNet.Execution;

namespace TrtMLNet.Scoring;

/// <summary>
/// One full batch of zeros on every lane of the device, all at once, at fit: what a lane pays the first time
/// it executes is paid there, not by the first batches scored. Measured on the H200 before it: a job's first
/// batch of ResNet-50 computed in 64-95 ms against 17 for the later ones
/// (docs/results/image-job-h200-run19-start.txt). What that cost is was not taken apart: ONNX Runtime's
/// per-thread handles, a context's first run and the memory executions at once need are the likely parts,
/// and all are per lane thread or per execution in flight, which this covers. The staging the warm-up rents
/// stays in the pool, enough for a cursor's slots, so the first batches do not pin host memory either.
/// </summary>
internal static class LaneWarmUp
{
    /// <summary>
    /// Best effort: a warm-up that fails (the device short of memory for every lane at once, a model that refuses
    /// zeros) is reported through <paramref name="warn"/>, and the fit goes on; the first batches then pay the cost.
    /// Other CUDA errors fail the fit.
    /// </summary>
    public static void Run(FittedModel model, Action<string> info, Action<string> warn)
    {
        var pool = model.Runtime.Pool;
        if (pool.Device.SharesHostMemory)
            return;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            RunOnEveryLane(model);
        }
        // A CUDA error other than memory running out may leave the device unusable (an illegal address sticks to
        // the context): that fails the fit rather than failing later, in some other model's batch.
        catch (Exception e) when (e is not OutOfMemoryException && (e is not CudaException cuda || cuda.Error == CudaError.OutOfMemory))
        {
            warn($"{model.Runtime.Settings.ModelName}: the warm-up batch of zeros failed ({e.Message}); the first batches scored will be slower. " +
                "Set WarmUpLanes = false to skip it.");
            return;
        }
        info($"{model.Runtime.Settings.ModelName}: a batch of {model.Shapes.BatchSize} ran on each of the {pool.Lanes.Count} lane(s) in " +
            $"{clock.Elapsed.TotalSeconds:0.00} s (warm-up).");
    }

    private static void RunOnEveryLane(FittedModel model)
    {
        var pool = model.Runtime.Pool;
        var lanes = pool.Lanes.Count;
        var staging = new List<Device.DeviceBuffer>();
        using var together = new CountdownEvent(lanes);
        var jobs = Enumerable.Range(0, lanes).Select(_ => new BatchJob { Model = model.Runtime, AllLanesTake = together }).ToArray();
        var allOutputs = Enumerable.Repeat(true, model.Shapes.Outputs.Count).ToArray();
        try
        {
            // As many buffers as a cursor's slots, should the lanes be fewer.
            for (var i = 0; i < Math.Max(lanes, 1 + model.ReadAheadBatches); i++)
                staging.Add(pool.Staging.Rent(model.Layout.TotalBytes));
            for (var i = 0; i < lanes; i++)
            {
                ZeroInputs(staging[i], model.Layout);
                jobs[i].Staging = staging[i];
                model.Prepare(jobs[i], model.Shapes.BatchSize, allOutputs);
                pool.Submit(jobs[i]);
            }
            foreach (var job in jobs)
                job.Wait();
        }
        finally
        {
            foreach (var job in jobs)
            {
                job.WaitQuietly();
                job.Dispose();
            }
            foreach (var buffer in staging)
                pool.Staging.Return(buffer);
        }
    }

    /// <summary>
    /// Zeros are a valid input of every model (token ids, images, features), unlike what pinned memory held
    /// before. The inputs come first in the layout.
    /// </summary>
    private static unsafe void ZeroInputs(Device.DeviceBuffer staging, BatchLayout layout) =>
        System.Runtime.InteropServices.NativeMemory.Clear((void*)staging.Pointer, (nuint)(layout.OutputOffsets.Count > 0 ? layout.OutputOffsets[0] : layout.TotalBytes));
}
