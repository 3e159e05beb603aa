using System.Runtime.CompilerServices;
using Microsoft.ML;
using Microsoft.ML.Data;
using TrtMLNet.Execution;
using TrtMLNet.Scoring;
using TrtMLNet.Tests.Support;

namespace TrtMLNet.Tests.Execution;

/// <summary>
/// What keeps a device's pool and its memory alive, and what lets them go: loans, cursors nobody
/// disposed, and the baseline the memory report measures against. Each test has a device of its own.
/// </summary>
public class LifetimeTests
{
    private const int Width = MarkingRows.Width;

    private static IDataView Data(int rows) => MarkingRows.Of(rows);

    [Fact]
    public unsafe void A_loan_keeps_its_pool_and_slab_alive_after_the_last_transformer_is_disposed()
    {
        var device = new PrivateCpuDevice();
        var data = Data(10);
        var transformer = TestEngines.Fit(new MarkingEngine(Width, scratchBytes: 4096, device), MarkingEngine.Signature(Width), data,
            new TensorRtOptions { BatchSize = 4, ScratchSlabs = 2 });
        var loan = transformer.BorrowScratch(4096);

        transformer.Dispose();

        Assert.True(ExecutionPool.IsRunning(device), "The pool shut down, freeing the slab, while it was lent.");
        new Span<byte>((void*)loan.Pointer, 4096).Fill(0x5A); // the slab is still the user's to write
        loan.Dispose();
        Assert.False(ExecutionPool.IsRunning(device));
        Assert.Equal(device.MemoryInfo()!.Value.Total, device.MemoryInfo()!.Value.Free);
    }

    [Fact]
    public void The_memory_report_counts_from_before_the_engine_was_loaded()
    {
        var device = new PrivateCpuDevice();
        const long weights = 3 << 20;
        using var transformer = TestEngines.Fit(new MarkingEngine(Width, scratchBytes: 4096, device, weightsBytes: weights), MarkingEngine.Signature(Width), Data(10),
            new TensorRtOptions { BatchSize = 4 });

        var report = transformer.GetMemoryReport();

        Assert.True(report.MeasuredDeviceBytes >= weights, $"Measured {report.MeasuredDeviceBytes} bytes, less than the {weights} bytes of weights loaded: {report}");
    }

    [Fact]
    public void A_cursor_nobody_disposed_is_released_with_a_warning()
    {
        var device = new PrivateCpuDevice();
        var warnings = new List<string>();
        var environment = new FitEnvironment(null, null, w => { lock (warnings) warnings.Add(w); }, _ => { });
        var data = Data(100);
        var transformer = TestEngines.Fit(new MarkingEngine(Width, scratchBytes: 4096, device), MarkingEngine.Signature(Width), data,
            new TensorRtOptions { BatchSize = 8 }, environment);

        ReadOneRowAndDropTheCursor(transformer, data);
        transformer.Dispose();
        Assert.True(ExecutionPool.IsRunning(device), "The open cursor should hold the engine until it is released.");

        var released = SpinWait.SpinUntil(() =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return !ExecutionPool.IsRunning(device);
        }, TimeSpan.FromSeconds(10));

        Assert.True(released, "A cursor nobody disposed kept its engine and device memory after the garbage collector found it.");
        lock (warnings)
            Assert.Contains(warnings, w => w.Contains("never disposed", StringComparison.Ordinal));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ReadOneRowAndDropTheCursor(TensorRtTransformer transformer, IDataView data)
    {
        var scored = transformer.Transform(data);
        var cursor = scored.GetRowCursor(scored.Schema);
        var y = cursor.GetGetter<VBuffer<float>>(scored.Schema["y"]);
        VBuffer<float> value = default;
        Assert.True(cursor.MoveNext());
        y(ref value);
    }
}
