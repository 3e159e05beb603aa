using TrtMLNet.Device;
using Microsoft.ML;
using Microsoft.ML.Data;
using TrtMLNet.Execution;
using TrtMLNet.GpuTests.Support;

namespace TrtMLNet.GpuTests;

/// <summary>
/// The scratch invariant with a real kernel on a real GPU. scratch_probe writes its token over the slab,
/// holds it about a millisecond, and counts any word another execution overwrote meanwhile. Two streams
/// share one slab: with the fence wait each kernel starts only after the previous user's fence, and
/// nothing is ever corrupted; with the wait removed (the test hook), the kernels overlap and corrupt.
/// </summary>
[Collection(GpuCollection.Name)]
public class ScratchRaceTests
{
    private const long SlabBytes = 32L << 20;
    private const long SpinCycles = 2_000_000; // about a millisecond at H100 clocks

    [Fact]
    public void SharedSlabAcrossStreamsIsNeverCorruptedWithFences() =>
        Assert.Equal(0u, Race(skipFenceWait: false, launches: 400));

    [Fact]
    public void WithoutTheFenceWaitTheSlabIsCorrupted() =>
        Assert.True(Race(skipFenceWait: true, launches: 400) > 0, "Kernels overlapped on one slab without fences, yet the probe saw nothing: the test could not catch a broken pool.");

    private static uint Race(bool skipFenceWait, int launches)
    {
        var cuda = Gpu.Require();
        var device = ComputeDevice.Gpu(cuda.Ordinal);
        device.MakeCurrent();
        using var module = cuda.LoadModule(Gpu.KernelsPtx());
        var probe = module.GetFunction("scratch_probe");
        using var violations = cuda.Allocate(sizeof(uint), "violations");
        using var arena = new ScratchArena(device) { SkipFenceWaitForTesting = skipFenceWait };
        var owner = new object();
        arena.Register(owner, SlabBytes, slabs: 1);
        var streams = new[] { device.CreateStream(), device.CreateStream() };
        try
        {
            foreach (var s in streams) ((CudaDeviceStream)s).Native.Memset(violations.Pointer, 0, sizeof(uint));
            foreach (var s in streams) s.Synchronize();
            for (var i = 0; i < launches; i++)
            {
                var stream = streams[i % 2];
                using var lease = arena.Acquire(stream, SlabBytes);
                Kernels.Launch(probe, stream.Handle, lease.Pointer, SlabBytes / sizeof(ulong), (ulong)(i + 1), SpinCycles, violations.Pointer);
            }
            foreach (var s in streams) s.Synchronize();
            using var host = cuda.AllocatePinned(sizeof(uint), "readback");
            ((CudaDeviceStream)streams[0]).Native.CopyToHost(host.Pointer, violations.Pointer, sizeof(uint));
            streams[0].Synchronize();
            var count = (uint)System.Runtime.InteropServices.Marshal.ReadInt32(host.Pointer);
            Gpu.Note($"{(skipFenceWait ? "without" : "with")} fence waits: {count} corrupted block(s) in {launches} launches");
            return count;
        }
        finally
        {
            foreach (var s in streams) s.Dispose();
            arena.Unregister(owner);
        }
    }

    [Fact]
    public void LanesSharingOneSlabThroughThePoolKeepScratchIntact()
    {
        var cuda = Gpu.Require();
        const int width = 256;
        var ml = new MLContext(seed: 1);
        var random = new Random(3);
        var rows = Enumerable.Range(0, 4000).Select(_ => new Row { x = Enumerable.Range(0, width).Select(_ => (float)random.NextDouble()).ToArray() }).ToList();
        var data = ml.Data.Cache(ml.Data.LoadFromEnumerable(rows));
        using var engine = new SyntheticCudaEngine(cuda, width, weightsBytes: 1 << 20, persistentBytes: 1 << 20, scratchBytes: 16L << 20, spinCycles: 200_000);
        var options = new TensorRtOptions { BatchSize = 50, Lanes = 4, ScratchSlabs = 1, ContextsPerEngine = 4 };
        using var transformer = Support.TestEnginesOnGpu.Fit(engine, data, options);
        var scored = transformer.Transform(data);
        var cursors = scored.GetRowCursorSet(scored.Schema, 4);
        Parallel.ForEach(cursors, cursor =>
        {
            using (cursor)
            {
                var x = cursor.GetGetter<VBuffer<float>>(scored.Schema["x"]);
                var y = cursor.GetGetter<VBuffer<float>>(scored.Schema["y"]);
                VBuffer<float> xv = default, yv = default;
                while (cursor.MoveNext())
                {
                    x(ref xv);
                    y(ref yv);
                    Assert.Equal(xv.DenseValues().Select(v => v + 1), yv.DenseValues());
                }
            }
        });
        Assert.Equal(0u, engine.Violations());
    }

    private sealed class Row
    {
        [VectorType(256)] public float[] x { get; set; } = [];
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GpuCollection
{
    public const string Name = "GPU";
}
