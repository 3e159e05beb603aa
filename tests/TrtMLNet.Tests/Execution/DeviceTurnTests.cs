using TrtMLNet.Backends;
using TrtMLNet.Device;
using TrtMLNet.Execution;
using TrtMLNet.Tests.Support;
using TrtMLNet.Tests.TensorRt;

namespace TrtMLNet.Tests.Execution;

/// <summary>
/// Lanes whose batches' uploads wait for the whole device (nvJPEG's hardware decoder) take turns: two such
/// uploads never run at once, while the lanes' host work (<see cref="IDeviceUpload.Prepare"/>) goes on beside
/// them. Run on the fake asynchronous GPU with two lanes fed by two submitters at once.
/// </summary>
public class DeviceTurnTests
{
    private const int Width = 8;
    private const int Rows = 4;
    private const int JobsPerSubmitter = 8;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void UploadsThatWaitForTheDeviceNeverRunAtOnceAndHostWorkGoesOnBesideThem(bool waitsForTheDevice)
    {
        FakeShim.Require();
        var recorder = new RecordingUpload(waitsForTheDevice);
        Run(recorder);

        Assert.Equal(2 * JobsPerSubmitter, recorder.Uploads);
        if (waitsForTheDevice)
        {
            Assert.Equal(0, recorder.OverlappingUploads);
            Assert.True(recorder.PreparesDuringAnUpload > 0, "No lane prepared its batch while another held the device's turn: host work was serialized too.");
        }
        else
        {
            // The control: without the turn the two lanes' uploads do overlap, so the check above can fail.
            Assert.True(recorder.OverlappingUploads > 0, "Two lanes never uploaded at once even without the turn: the test does not exercise concurrency.");
        }
    }

    private static void Run(RecordingUpload upload)
    {
        var device = FakeGpu.Instance;
        var x = new BatchTensor("x", TensorElementType.Float32, [Rows, Width], 0, Rows * Width * sizeof(float));
        var y = new BatchTensor("y", TensorElementType.Float32, [Rows, Width], x.Bytes, Rows * Width * sizeof(float));
        var pool = ExecutionPool.Acquire(device);
        var runtime = new ModelRuntime(new MarkingEngine(Width, device: device), pool,
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
    }

    /// <summary>Counts uploads running at once, and prepares made while an upload runs; each upload takes 15 ms.</summary>
    private sealed class RecordingUpload(bool waitsForTheDevice) : IDeviceUpload
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

        public bool WaitsForTheDevice(int lane) => waitsForTheDevice;

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
