using System.Runtime.InteropServices;
using TrtMLNet.Device;

namespace TrtMLNet.Tests.TensorRt;

/// <summary>The fake device's exports (fake_device.cpp).</summary>
internal sealed unsafe class FakeDeviceCalls
{
    public required delegate* unmanaged[Cdecl]<IntPtr> StreamCreate { get; init; }
    public required delegate* unmanaged[Cdecl]<IntPtr, void> StreamDestroy { get; init; }
    public required delegate* unmanaged[Cdecl]<IntPtr, void> StreamSynchronize { get; init; }
    public required delegate* unmanaged[Cdecl]<IntPtr, IntPtr, nuint, IntPtr, void> MemcpyAsync { get; init; }
    public required delegate* unmanaged[Cdecl]<IntPtr> EventCreate { get; init; }
    public required delegate* unmanaged[Cdecl]<IntPtr, void> EventDestroy { get; init; }
    public required delegate* unmanaged[Cdecl]<IntPtr, IntPtr, void> EventRecord { get; init; }
    public required delegate* unmanaged[Cdecl]<IntPtr, IntPtr, void> StreamWaitEvent { get; init; }
    public required delegate* unmanaged[Cdecl]<IntPtr, void> EventSynchronize { get; init; }
    public required delegate* unmanaged[Cdecl]<IntPtr, int> EventQuery { get; init; }

    public static FakeDeviceCalls From(IntPtr library)
    {
        IntPtr Get(string name) => NativeLibrary.GetExport(library, name);
        return new FakeDeviceCalls
        {
            StreamCreate = (delegate* unmanaged[Cdecl]<IntPtr>)Get("trts_fake_stream_create"),
            StreamDestroy = (delegate* unmanaged[Cdecl]<IntPtr, void>)Get("trts_fake_stream_destroy"),
            StreamSynchronize = (delegate* unmanaged[Cdecl]<IntPtr, void>)Get("trts_fake_stream_synchronize"),
            MemcpyAsync = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, nuint, IntPtr, void>)Get("trts_fake_memcpy_async"),
            EventCreate = (delegate* unmanaged[Cdecl]<IntPtr>)Get("trts_fake_event_create"),
            EventDestroy = (delegate* unmanaged[Cdecl]<IntPtr, void>)Get("trts_fake_event_destroy"),
            EventRecord = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, void>)Get("trts_fake_event_record"),
            StreamWaitEvent = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, void>)Get("trts_fake_stream_wait_event"),
            EventSynchronize = (delegate* unmanaged[Cdecl]<IntPtr, void>)Get("trts_fake_event_synchronize"),
            EventQuery = (delegate* unmanaged[Cdecl]<IntPtr, int>)Get("trts_fake_event_query"),
        };
    }
}

/// <summary>
/// A GPU made of the fake shim's device: host memory, and streams whose work (copies, executions,
/// events) runs later on a worker thread of their own, as a GPU's does after the call returns. The
/// execution layer runs on it unchanged, so fences and TensorRT's profile rule are tested against real
/// asynchrony. Call <see cref="FakeShim.Require"/> first.
/// </summary>
internal sealed class FakeGpu : ComputeDevice
{
    /// <summary>One fake GPU per process, as ComputeDevice.Gpu gives one object per GPU (pools are per device).</summary>
    public static FakeGpu Instance { get; } = new();

    private FakeGpu() { }

    public override int Id => 0;

    public override string Name => "GPU 0 (NVIDIA Fake Async GPU)";

    public override string ModelName => "NVIDIA Fake Async GPU";

    public override Version? ComputeCapability => new(9, 0);

    public override bool SharesHostMemory => false;

    public override DeviceBuffer AllocateDevice(long bytes, string purpose) => new HostBuffer(bytes);

    public override DeviceBuffer AllocateStaging(long bytes, string purpose) => new HostBuffer(bytes);

    public override DeviceStream CreateStream() => new Stream(FakeShim.Device);

    public override DeviceStream BorrowStream(IntPtr nativeStream) => throw new NotSupportedException("The fake GPU lends no streams.");

    public override DeviceEvent? CreateEvent(bool timing = false) => new Event(FakeShim.Device);

    public override (long Free, long Total)? MemoryInfo() => null;

    public override void MakeCurrent() { }

    private sealed unsafe class Stream(FakeDeviceCalls calls) : DeviceStream
    {
        private IntPtr _handle = calls.StreamCreate();

        public override IntPtr Handle => _handle;

        public override void CopyToDevice(IntPtr destination, IntPtr source, long bytes) => calls.MemcpyAsync(destination, source, (nuint)bytes, _handle);

        public override void CopyToHost(IntPtr destination, IntPtr source, long bytes) => calls.MemcpyAsync(destination, source, (nuint)bytes, _handle);

        public override void Synchronize() => calls.StreamSynchronize(_handle);

        public override StreamTimer CreateTimer(int marks) => new HostTimer(marks);

        public override void Dispose()
        {
            var handle = Interlocked.Exchange(ref _handle, IntPtr.Zero);
            if (handle != IntPtr.Zero)
                calls.StreamDestroy(handle);
        }
    }

    private sealed unsafe class Event(FakeDeviceCalls calls) : DeviceEvent
    {
        private IntPtr _handle = calls.EventCreate();

        public override void Record(DeviceStream stream) => calls.EventRecord(_handle, stream.Handle);

        public override void MakeStreamWait(DeviceStream stream) => calls.StreamWaitEvent(stream.Handle, _handle);

        public override void Synchronize() => calls.EventSynchronize(_handle);

        public override bool IsComplete() => calls.EventQuery(_handle) != 0;

        public override void Dispose()
        {
            var handle = Interlocked.Exchange(ref _handle, IntPtr.Zero);
            if (handle != IntPtr.Zero)
                calls.EventDestroy(handle);
        }
    }
}
