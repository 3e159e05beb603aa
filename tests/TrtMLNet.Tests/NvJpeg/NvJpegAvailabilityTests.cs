using System.Runtime.InteropServices;
using TrtMLNet.Native;
using TrtMLNet.Native.Cuda;
using TrtMLNet.Native.NvJpeg;

namespace TrtMLNet.Tests.NvJpeg;

/// <summary>
/// Why nvJPEG cannot be used, in words, and never a DllNotFoundException: without the library, without a
/// GPU, with a library too old. On machines that have Debian's libnvjpeg11 (this one does) the real library
/// is probed too; those tests skip, saying so, where it is absent.
/// </summary>
public class NvJpegAvailabilityTests
{
    [Fact]
    public void MissingLibrariesAreNamedWithTheLoadersReason()
    {
        var probe = NvJpegLibrary.Probe(["libnvjpeg_absent_1.so", "libnvjpeg_absent_2.so"]);

        Assert.False(probe.Loaded);
        Assert.Null(probe.Version);
        Assert.Contains("nvJPEG is not installed", probe.Failure);
        Assert.Contains("libnvjpeg_absent_1.so, libnvjpeg_absent_2.so", probe.Failure);
        Assert.Contains(NativeLibraries.NvJpegPathVariable, probe.Failure);
    }

    [Fact]
    public void ALibraryWithoutNvJpegsFunctionsIsTooOld()
    {
        // libc loads but exports none of nvJPEG's functions: what an nvJPEG older than the API looks like.
        var libc = OperatingSystem.IsWindows() ? "kernel32.dll" : "libc.so.6";

        var probe = NvJpegLibrary.Probe([libc]);

        Assert.False(probe.Loaded);
        Assert.Contains("too old", probe.Failure);
        Assert.Contains("nvjpegDecodeBatchedSupported", probe.Failure);
    }

    [Fact]
    public void TheInstalledLibraryIsProbedWithItsVersion()
    {
        var probe = NvJpegLibrary.Probe(NativeLibraries.NvJpegFileNames);
        if (!probe.Loaded && probe.Failure!.Contains("not installed"))
            Assert.Skip($"No nvJPEG on this machine: {probe.Failure}");

        Assert.True(probe.Loaded, probe.Failure);
        Assert.NotNull(probe.FileName);
        Assert.True(probe.Version!.Major >= 11, $"nvJPEG {probe.Version}");
    }

    [Fact]
    public void WithoutAGpuNvJpegIsUnavailableAndSaysWhy()
    {
        if (CudaDriver.IsAvailable(out _))
            Assert.Skip("This machine has a GPU; the GPU tests cover nvJPEG there.");

        Assert.False(NvJpegLibrary.IsAvailable(out var reason));
        Assert.StartsWith("nvJPEG decodes on a GPU, and ", reason);
        var error = Assert.Throws<NvJpegException>(NvJpegLibrary.EnsureAvailable);
        Assert.Contains(reason!, error.Message);
    }

    [Fact]
    public void CreatingAHandleWithoutAGpuFailsWithTheStatusName()
    {
        // The real library answers without a GPU: nvjpegCreateEx returns a status, which becomes an NvJpegException.
        var probe = NvJpegLibrary.Probe(NativeLibraries.NvJpegFileNames);
        if (!probe.Loaded)
            Assert.Skip($"No nvJPEG on this machine: {probe.Failure}");
        if (CudaDriver.IsAvailable(out _))
            Assert.Skip("This machine has a GPU; the GPU tests create handles there.");

        var status = NvJpegLibraryHandle.TryCreate(NvJpegBackend.Default, NvJpegApi.FlagsDefault, IntPtr.Zero, out var handle);

        Assert.Null(handle);
        Assert.NotEqual(NvJpegStatus.Success, status);
        var error = Assert.Throws<NvJpegException>(() => NvJpegLibraryHandle.Create(NvJpegBackend.Default, 0, IntPtr.Zero));
        Assert.StartsWith("nvjpegCreateEx(Default backend) failed: NVJPEG_STATUS_", error.Message);
        Assert.Equal(status, error.Status);
    }

    [Fact]
    public void StatusNamesAreNvJpegsOwn()
    {
        Assert.Equal("NVJPEG_STATUS_BAD_JPEG", NvJpegException.NameOf(NvJpegStatus.BadJpeg));
        Assert.Equal("NVJPEG_STATUS_ARCH_MISMATCH", NvJpegException.NameOf(NvJpegStatus.ArchMismatch));
        Assert.Equal("NVJPEG_STATUS_42", NvJpegException.NameOf((NvJpegStatus)42));
        var error = NvJpegCheck.Failure(NvJpegStatus.IncompleteBitstream, "nvjpegGetImageInfo on 'a.jpg'");
        Assert.Equal("nvjpegGetImageInfo on 'a.jpg' failed: NVJPEG_STATUS_INCOMPLETE_BITSTREAM (the JPEG data ends too early)", error.Message);
        Assert.Equal("NVJPEG_STATUS_INCOMPLETE_BITSTREAM", error.StatusName);
    }
}
