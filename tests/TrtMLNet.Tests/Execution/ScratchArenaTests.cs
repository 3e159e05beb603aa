using TrtMLNet.Device;
using TrtMLNet.Execution;

namespace TrtMLNet.Tests.Execution;

/// <summary>The arena's sizing and lending rules, on the CPU device.</summary>
public class ScratchArenaTests
{
    private static ScratchArena NewArena() => new(ComputeDevice.Cpu);

    /// <summary>A slab lent as the pool lends it, given back on dispose.</summary>
    private sealed class Loan(ScratchArena arena, ScratchSlab slab) : IDisposable
    {
        public IntPtr Pointer { get; } = slab.Buffer!.Pointer;

        public long Bytes { get; } = slab.Buffer!.Bytes;

        public void Dispose() => arena.Return(slab, stream: null);
    }

    private static Loan Lend(ScratchArena arena, long bytes) => new(arena, arena.Borrow(bytes, stream: null));

    [Fact]
    public void SlabsTakeTheLargestNeedAndTheMostSlabsAsked()
    {
        using var arena = NewArena();
        object a = new(), b = new();
        arena.Register(a, 1000, slabs: 2);
        arena.Register(b, 5000, slabs: 1);
        Assert.Equal(5000, arena.SlabBytes);
        Assert.Equal(2, arena.SlabCount);
        Assert.Equal(10_000, arena.TotalBytes);
    }

    [Fact]
    public void LeavingKeepsMemoryUntilTrimmedAndTheLastToLeaveFreesAll()
    {
        using var arena = NewArena();
        object small = new(), large = new();
        arena.Register(small, 1000, slabs: 2);
        arena.Register(large, 8000, slabs: 3);
        arena.Unregister(large);
        Assert.Equal(8000, arena.SlabBytes); // no shrinking behind anyone's back
        arena.Trim();
        Assert.Equal(1000, arena.SlabBytes);
        Assert.Equal(2, arena.SlabCount);
        arena.Unregister(small);
        Assert.Equal(0, arena.TotalBytes);
    }

    [Fact]
    public void AnExecutionNeedingMoreThanTheSlabsIsRefused()
    {
        using var arena = NewArena();
        arena.Register(new object(), 1000, slabs: 1);
        using var stream = new HostStream();
        var e = Assert.Throws<InvalidOperationException>(() => arena.Acquire(stream, 2000));
        Assert.Contains("not registered", e.Message);
    }

    [Fact]
    public void LendingKeepsOneSlabForTheExecutionsAndReturnsMakeThemAvailable()
    {
        using var arena = NewArena();
        arena.Register(new object(), 4096, slabs: 2);
        using var loan = Lend(arena, 1024);
        Assert.Equal(4096, loan.Bytes);
        var e = Assert.Throws<InvalidOperationException>(() => Lend(arena, 1024));
        Assert.Contains("one always stays", e.Message);

        // The slab left still serves executions, and the lent one is not handed out meanwhile.
        using var stream = new HostStream();
        using (var lease = arena.Acquire(stream, 4096))
            Assert.NotEqual(loan.Pointer, lease.Pointer);
        loan.Dispose();
        using var again = Lend(arena, 1024);
        Assert.Equal(4096, again.Bytes);
    }

    [Fact]
    public void ALentSlabGrowsWhenItComesBack()
    {
        using var arena = NewArena();
        arena.Register(new object(), 1000, slabs: 2);
        var loan = Lend(arena, 1000);
        arena.Register(new object(), 3000, slabs: 2);
        Assert.Equal(1000 + 3000, arena.TotalBytes); // the lent one keeps its size while lent
        loan.Dispose();
        Assert.Equal(2 * 3000, arena.TotalBytes);
    }

    [Fact]
    public void AFailedGrowthLeavesTheArenaAsItWas()
    {
        using var arena = NewArena();
        var owner = new object();
        arena.Register(owner, 1000, slabs: 1);
        // More than any machine can give: the allocation fails and the arena goes back to its old size.
        Assert.ThrowsAny<Exception>(() => arena.Register(new object(), long.MaxValue / 2, slabs: 1));
        Assert.Equal(1000, arena.SlabBytes);
        using var stream = new HostStream();
        using var lease = arena.Acquire(stream, 1000);
        Assert.NotEqual(IntPtr.Zero, lease.Pointer);
    }

    [Fact]
    public void TransformerTrimsWhatADisposedLargerEngineLeft()
    {
        var ml = new Microsoft.ML.MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 10).Select(_ => new WideRow()).ToList());
        // Engines of their own sizes, so other tests sharing the CPU pool do not change what is measured.
        using var small = Support.TestEngines.Fit(new Support.MarkingEngine(8, scratchBytes: 3 * 1024 * 1024), Support.MarkingEngine.Signature(8), data, new TensorRtOptions { BatchSize = 4 });
        var large = Support.TestEngines.Fit(new Support.MarkingEngine(8, scratchBytes: 9 * 1024 * 1024), Support.MarkingEngine.Signature(8), data, new TensorRtOptions { BatchSize = 4 });
        var arena = small.Fitted.Runtime.Pool.Arena;
        Assert.True(arena.SlabBytes >= 9 * 1024 * 1024);
        large.Dispose();
        small.TrimMemory();
        Assert.True(arena.SlabBytes < 9 * 1024 * 1024, $"slabs still hold {arena.SlabBytes} bytes");
    }

    [Fact]
    public void TrimmingWhileASlabIsLentLeavesOneForTheExecutions()
    {
        using var arena = NewArena();
        object wide = new(), narrow = new();
        arena.Register(wide, 1000, slabs: 2);
        arena.Register(narrow, 1000, slabs: 1);
        using var loan = Lend(arena, 1000);
        arena.Unregister(wide);
        arena.Trim(); // the executions now want one slab, and the lent one is not theirs

        using var stream = new HostStream();
        var acquired = IntPtr.Zero;
        Assert.True(Support.Within.Completes(() =>
        {
            using var lease = arena.Acquire(stream, 1000);
            acquired = lease.Pointer;
        }), "An execution waited for the user's loan: trimming left only the lent slab.");
        Assert.NotEqual(loan.Pointer, acquired);
    }

    [Fact]
    public void AFailedStreamWaitLeavesNoLaterUserHanging()
    {
        var device = new FailingWaitDevice();
        using var arena = new ScratchArena(device);
        arena.Register(new object(), 1000, slabs: 1);
        using var first = device.CreateStream();
        using var second = device.CreateStream();
        using (arena.Acquire(first, 1000)) { }

        device.FailNextWait = true;
        var error = Assert.Throws<InvalidOperationException>(() => arena.Acquire(second, 1000));
        Assert.Contains("injected", error.Message);

        Assert.True(Support.Within.Completes(() => { using var lease = arena.Acquire(first, 1000); }),
            "The slab's next user hangs on the fence of an acquisition whose wait failed.");
    }

    [Fact]
    public void AnAcquisitionRefusedLeavesNoEventBehind()
    {
        var device = new FailingWaitDevice();
        using var arena = new ScratchArena(device);
        using var stream = device.CreateStream();
        Assert.Throws<InvalidOperationException>(() => arena.Acquire(stream, 1000));
        arena.Register(new object(), 1000, slabs: 1);
        Assert.Throws<InvalidOperationException>(() => arena.Acquire(stream, 2000));
        // On a GPU each fence is a CUDA event: one made before a refusal would be lost with nothing to free it.
        Assert.Equal(0, device.LiveEvents);

        using (arena.Acquire(stream, 1000)) { }
        Assert.Equal(1, device.LiveEvents);
    }

    /// <summary>The CPU device, except that its events exist (counted while alive) and one stream wait can be made to fail.</summary>
    private sealed class FailingWaitDevice : CpuComputeDevice
    {
        private int _liveEvents;

        public bool FailNextWait { get; set; }

        public int LiveEvents => Volatile.Read(ref _liveEvents);

        public override string Name => "CPU with failing waits";

        public override DeviceEvent? CreateEvent(bool timing = false)
        {
            Interlocked.Increment(ref _liveEvents);
            return new Event(this);
        }

        private sealed class Event(FailingWaitDevice device) : DeviceEvent
        {
            public override void Record(DeviceStream stream) { }

            public override void MakeStreamWait(DeviceStream stream)
            {
                if (device.FailNextWait)
                {
                    device.FailNextWait = false;
                    throw new InvalidOperationException("injected stream-wait failure");
                }
            }

            public override void Synchronize() { }

            public override bool IsComplete() => true;

            public override void Dispose() => Interlocked.Decrement(ref device._liveEvents);
        }
    }

    private sealed class WideRow
    {
        [Microsoft.ML.Data.VectorType(8)] public float[] x { get; set; } = new float[8];
    }
}
