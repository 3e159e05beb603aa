using TrtMLNet.Backends;
using TrtMLNet.Device;
using TrtMLNet.Execution;
using TrtMLNet.Tests.Support;
using TrtMLNet.Tests.TensorRt;

namespace TrtMLNet.Tests.Execution;

/// <summary>
/// Lanes take turns on the device as their batches' uploads say (<see cref="DeviceTurnFrom"/>). From the
/// upload (nvJPEG's hardware decoder, which waits for the whole device): two such uploads never run at once,
/// while the lanes' host work (<see cref="IDeviceUpload.Prepare"/>) goes on beside them. From the compute
/// (the hybrid decoder): uploads overlap, but two engines never execute at once. Run on the fake
/// asynchronous GPU with two lanes fed by two submitters at once; each case has a control that shows what
/// it checks can fail.
/// </summary>
public class DeviceTurnTests
{
    private const int Width = 8;
    private const int Rows = 4;
    private const int JobsPerSubmitter = 8;

    [Fact]
    public void UploadsThatTakeTheTurnNeverRunAtOnceAndHostWorkGoesOnBesideThem()
    {
        FakeShim.Require();
        var recorder = new RecordingUpload(DeviceTurnFrom.Upload);
        Run(recorder);

        Assert.Equal(2 * JobsPerSubmitter, recorder.Uploads);
        Assert.Equal(0, recorder.OverlappingUploads);
        Assert.True(recorder.PreparesDuringAnUpload > 0, "No lane prepared its batch while another held the device's turn: host work was serialized too.");
    }

    [Fact]
    public void WithTheTurnFromTheComputeUploadsOverlapButEnginesNeverExecuteAtOnce()
    {
        FakeShim.Require();
        var recorder = new RecordingUpload(DeviceTurnFrom.Compute);
        var engine = Run(recorder);

        Assert.Equal(2 * JobsPerSubmitter, engine.Executions);
        Assert.Equal(0, engine.OverlappingExecutions);
        Assert.True(recorder.OverlappingUploads > 0, "Two lanes never uploaded at once: the turn held the uploads too.");
    }

    [Fact]
    public void WithoutATurnUploadsAndEnginesOverlap()
    {
        FakeShim.Require();
        var recorder = new RecordingUpload(DeviceTurnFrom.None);
        var engine = Run(recorder);

        // The controls: without the turn both do overlap, so the checks above can fail.
        Assert.True(recorder.OverlappingUploads > 0, "Two lanes never uploaded at once even without the turn: the test does not exercise concurrency.");
        Assert.True(engine.OverlappingExecutions > 0, "Two engines never executed at once even without the turn: the test does not exercise concurrency.");
    }

    private static MarkingEngine Run(RecordingUpload upload)
    {
        var device = FakeGpu.Instance;
        var x = new BatchTensor("x", TensorElementType.Float32, [Rows, Width], 0, Rows * Width * sizeof(float));
        var y = new BatchTensor("y", TensorElementType.Float32, [Rows, Width], x.Bytes, Rows * Width * sizeof(float));
        var pool = ExecutionPool.Acquire(device);
        // Executions long enough to overlap when nothing keeps them apart.
        var engine = new MarkingEngine(Width, device: device) { MaxWork = TimeSpan.FromMilliseconds(20) };
        var runtime = new ModelRuntime(engine, pool,
            new RuntimeSettings("turns", Lanes: 2, ContextsPerProfile: 2, ShareScratch: true, ScratchSlabs: 2, IoBytesPerLane: x.Bytes + y.Bytes));
        try
        {
            Parallel.For(0, 2, new ParallelOptions { MaxDegreeOfParallelism = 2 }, _ =>
            {
                using var staging = device.AllocateStaging(x.Bytes + y.Bytes, "test batch");
                using var job = new BatchJob { Model = runtime, Staging = staging, Inputs = [x], Outputs = [y], Uploads = [upload] };
                for (int i = 0; i < JobsPerSubmitter; i++)
                {
                    pool.Submit(job);
                    job.Wait();
                }
            });
        }
        finally
        {
            runtime.Close();
        }
        return engine;
    }

    /// <summary>Counts uploads running at once, and prepares made while an upload runs; each upload takes 15 ms.</summary>
    private sealed class RecordingUpload(DeviceTurnFrom turnFrom) : IDeviceUpload
    {
        private int _inside;
        private int _uploads, _overlapping, _preparesDuring;

        public int Uploads => Volatile.Read(ref _uploads);
        public int OverlappingUploads => Volatile.Read(ref _overlapping);
        public int PreparesDuringAnUpload => Volatile.Read(ref _preparesDuring);

        public void Prepare(int lane)
        {
            Thread.Sleep(5);
            if (Volatile.Read(ref _inside) > 0)
                Interlocked.Increment(ref _preparesDuring);
        }

        public DeviceTurnFrom TurnFrom(int lane) => turnFrom;

        public void Upload(DeviceStream stream, IntPtr destination, IntPtr staging, int lane)
        {
            if (Interlocked.Increment(ref _inside) > 1)
                Interlocked.Increment(ref _overlapping);
            Thread.Sleep(15);
            stream.CopyToDevice(destination, staging, Rows * Width * sizeof(float));
            Interlocked.Decrement(ref _inside);
            Interlocked.Increment(ref _uploads);
        }
    }
}
