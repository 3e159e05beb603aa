using System.Runtime.InteropServices;
using TrtMLNet.GpuTests.Support;
using TrtMLNet.Native.Cuda;

namespace TrtMLNet.GpuTests;

/// <summary>The CUDA driver layer on a real GPU: devices, memory, streams, events, copies, errors.</summary>
public class CudaLayerTests
{
    [Fact]
    public void DeviceReportsItsProperties()
    {
        var device = Gpu.Require();
        Assert.False(string.IsNullOrWhiteSpace(device.Name));
        Assert.True(device.ComputeCapability.Major >= 5, device.ToString());
        Assert.True(device.TotalMemory > 1L << 30, device.ToString());
        Assert.True(CudaDriver.DriverVersion >= 12000, $"driver CUDA version {CudaDriver.DriverVersion}");
        var (free, total) = device.GetMemoryInfo();
        Assert.InRange(free, 1, total);
        Gpu.Note($"{device}, driver CUDA {CudaDriver.DriverVersion}, free {Gpu.MiB(free)} of {Gpu.MiB(total)}");
    }

    [Fact]
    public void AsyncCopiesMemsetAndEventsRoundTrip()
    {
        var device = Gpu.Require();
        const int count = 1 << 20;
        const long bytes = count * sizeof(float);
        using var pinned = device.AllocatePinned(bytes, "test");
        using var back = device.AllocatePinned(bytes, "test");
        using var memory = device.Allocate(bytes, "test");
        using var stream = device.CreateStream();
        using var start = device.CreateEvent(timing: true);
        using var end = device.CreateEvent(timing: true);
        var values = Enumerable.Range(0, count).Select(i => (float)i).ToArray();
        Marshal.Copy(values, 0, pinned.Pointer, count);

        start.Record(stream);
        stream.CopyToDevice(memory.Pointer, pinned.Pointer, bytes);
        stream.Memset(memory.Pointer, 0, 16 * sizeof(float)); // the first 16 floats become 0
        stream.CopyToHost(back.Pointer, memory.Pointer, bytes);
        end.Record(stream);
        end.Synchronize();

        Assert.True(end.IsComplete());
        Assert.True(CudaEvent.Elapsed(start, end) >= 0);
        var result = new float[count];
        Marshal.Copy(back.Pointer, result, 0, count);
        Assert.All(result.Take(16), v => Assert.Equal(0f, v));
        Assert.Equal(values.Skip(16), result.Skip(16));
    }

    [Fact]
    public void StreamWaitsOnAnotherStreamsEvent()
    {
        var device = Gpu.Require();
        const long bytes = 64L << 20;
        using var a = device.CreateStream();
        using var b = device.CreateStream();
        using var source = device.Allocate(bytes, "test");
        using var target = device.Allocate(bytes, "test");
        using var host = device.AllocatePinned(16, "test");
        using var done = device.CreateEvent();
        a.Memset(source.Pointer, 7, bytes);
        done.Record(a);
        b.Wait(done);                       // without it, b could copy before a has written
        b.CopyDeviceToDevice(target.Pointer, source.Pointer, bytes);
        b.CopyToHost(host.Pointer, target.Pointer + (nint)(bytes - 16), 16);
        b.Synchronize();
        var tail = new byte[16];
        Marshal.Copy(host.Pointer, tail, 0, 16);
        Assert.All(tail, v => Assert.Equal(7, v));
    }

    [Fact]
    public void MemoryInfoSeesAllocationsComeAndGo()
    {
        var device = Gpu.Require();
        const long bytes = 512L << 20;
        var before = Gpu.FreeBytes(device);
        var memory = device.Allocate(bytes, "test");
        var during = Gpu.FreeBytes(device);
        memory.Dispose();
        var after = Gpu.FreeBytes(device);
        Assert.InRange(before - during, bytes, bytes + (16L << 20));
        Assert.InRange(Math.Abs(before - after), 0, 4L << 20);
    }

    [Fact]
    public void InvalidDeviceIdNamesTheValidOnes()
    {
        Gpu.Require();
        var e = Assert.Throws<CudaException>(() => CudaDriver.GetDevice(CudaDriver.DeviceCount + 3));
        Assert.Equal(CudaError.InvalidDevice, e.Error);
        Assert.Equal("CUDA_ERROR_INVALID_DEVICE", e.ErrorName);
        Assert.Contains("valid ids", e.Message);
    }

    [Fact]
    public void OutOfMemoryNamesTheSizeAndTheFreeMemory()
    {
        var device = Gpu.Require();
        var e = Assert.Throws<CudaException>(() => device.Allocate(device.TotalMemory * 4, "a test buffer"));
        Assert.Equal(CudaError.OutOfMemory, e.Error);
        Assert.Contains("a test buffer", e.Message);
        Assert.Contains("free", e.Message);
    }

    [Fact]
    public void PtxLoadsAndItsKernelRuns()
    {
        var device = Gpu.Require();
        using var module = device.LoadModule(Gpu.KernelsPtx());
        var addOne = module.GetFunction("add_one");
        const int n = 1000;
        using var x = device.Allocate(n * 4, "x");
        using var y = device.Allocate(n * 4, "y");
        using var host = device.AllocatePinned(n * 4, "host");
        using var stream = device.CreateStream();
        Marshal.Copy(Enumerable.Range(0, n).Select(i => (float)i).ToArray(), 0, host.Pointer, n);
        stream.CopyToDevice(x.Pointer, host.Pointer, n * 4);
        Kernels.Launch(addOne, stream.Pointer, x.Pointer, y.Pointer, (long)n);
        stream.CopyToHost(host.Pointer, y.Pointer, n * 4);
        stream.Synchronize();
        var result = new float[n];
        Marshal.Copy(host.Pointer, result, 0, n);
        Assert.Equal(Enumerable.Range(1, n).Select(i => (float)i), result);
    }
}
