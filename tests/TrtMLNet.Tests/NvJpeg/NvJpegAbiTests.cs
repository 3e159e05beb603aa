using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TrtMLNet.Native.NvJpeg;

namespace TrtMLNet.Tests.NvJpeg;

/// <summary>
/// The nvJPEG ABI the P/Invoke layer hard-codes, against nvjpeg.h. The numbers below were printed by
/// tests/TrtMLNet.Tests/native/NvJpegAbi/nvjpeg_abi.c compiled with gcc against CUDA 11.8's nvjpeg.h
/// (Debian's /usr/include/nvjpeg.h, nvJPEG 11.9.0.86) and are stored in nvjpeg_abi.expected; that program
/// also fails to compile if any imported function's signature differs, and check-nvjpeg-abi.sh runs it
/// against another CUDA's header (13.x on the GPU machine).
/// </summary>
public class NvJpegAbiTests
{
    [Fact]
    public unsafe void NvJpegImageIsLaidOutAsTheHeaderSays()
    {
        // nvjpegImage_t size 64 channel 0 pitch 32
        Assert.Equal(64, sizeof(NvJpegImage));
        var image = default(NvJpegImage);
        byte* start = (byte*)&image;
        Assert.Equal(0, (int)((byte*)Unsafe.AsPointer(ref image.Channel[0]) - start));
        Assert.Equal(32, (int)((byte*)Unsafe.AsPointer(ref image.Pitch[0]) - start));
        Assert.Equal(8, (int)((byte*)Unsafe.AsPointer(ref image.Channel[1]) - start));
        Assert.Equal(40, (int)((byte*)Unsafe.AsPointer(ref image.Pitch[1]) - start));
        Assert.Equal(4, NvJpegImage.MaxComponents);
    }

    [Fact]
    public void EnumsHaveTheHeadersValues()
    {
        Assert.Equal([0, 1, 2, 3], new[] { NvJpegBackend.Default, NvJpegBackend.Hybrid, NvJpegBackend.GpuHybrid, NvJpegBackend.Hardware }.Select(b => (int)b));
        Assert.Equal(5, (int)NvJpegOutputFormat.Rgbi);
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7, -1], new[]
        {
            NvJpegChromaSubsampling.Css444, NvJpegChromaSubsampling.Css422, NvJpegChromaSubsampling.Css420, NvJpegChromaSubsampling.Css440,
            NvJpegChromaSubsampling.Css411, NvJpegChromaSubsampling.Css410, NvJpegChromaSubsampling.Gray, NvJpegChromaSubsampling.Css410V,
            NvJpegChromaSubsampling.Unknown,
        }.Select(c => (int)c));
        Assert.Equal(Enumerable.Range(0, 11), Enum.GetValues<NvJpegStatus>().Select(s => (int)s));
        Assert.Equal([0, 1, 2], new[] { LibraryProperty.MajorVersion, LibraryProperty.MinorVersion, LibraryProperty.PatchLevel }.Select(p => (int)p));
        Assert.All(new[] { typeof(NvJpegStatus), typeof(NvJpegBackend), typeof(NvJpegOutputFormat), typeof(NvJpegChromaSubsampling), typeof(LibraryProperty) },
            t => Assert.Equal(typeof(int), Enum.GetUnderlyingType(t)));
    }

    [Fact]
    public void TheExpectedFileIsWhatTheseValuesPrint()
    {
        // The same lines nvjpeg_abi.c prints, from the C# side: regenerating the file from another header that
        // differs makes this fail, and so does a C# value that drifts from the header.
        var ci = CultureInfo.InvariantCulture;
        string Statuses() => string.Join(" ", Enum.GetValues<NvJpegStatus>().Select(s => $"{NvJpegException.NameOf(s)["NVJPEG_STATUS_".Length..]} {(int)s}"));
        string[] expected =
        [
            string.Create(ci, $"nvjpegImage_t size {Unsafe.SizeOf<NvJpegImage>()} channel 0 pitch {Unsafe.SizeOf<NvJpegImage.FourPointers>()}"),
            $"NVJPEG_MAX_COMPONENT {NvJpegImage.MaxComponents}",
            $"backend DEFAULT {(int)NvJpegBackend.Default} HYBRID {(int)NvJpegBackend.Hybrid} GPU_HYBRID {(int)NvJpegBackend.GpuHybrid} HARDWARE {(int)NvJpegBackend.Hardware}",
            $"output RGBI {(int)NvJpegOutputFormat.Rgbi}",
            "css 444 0 422 1 420 2 440 3 411 4 410 5 GRAY 6 410V 7 UNKNOWN -1",
            $"status {Statuses()}",
            $"flags DEFAULT {NvJpegApi.FlagsDefault}",
            "property MAJOR 0 MINOR 1 PATCH 2",
        ];

        Assert.Equal(expected, File.ReadAllLines(AbiFile("nvjpeg_abi.expected")));
    }

    [Fact]
    public void EveryImportIsProbedAndEveryProbedNameIsImported()
    {
        var imported = typeof(NvJpegApi).GetMethods(BindingFlags.Static | BindingFlags.NonPublic)
            .Where(m => m.GetCustomAttribute<LibraryImportAttribute>() is not null)
            .Select(m => m.GetCustomAttribute<LibraryImportAttribute>()!.EntryPoint ?? m.Name)
            .Order().ToArray();

        Assert.Equal(32, imported.Length);
        Assert.Equal(imported, NvJpegApi.EntryPoints.Order().ToArray());
    }

    [Fact]
    public void TheCheckProgramDeclaresEveryImportedFunction()
    {
        var program = File.ReadAllText(AbiFile("nvjpeg_abi.c"));

        Assert.All(NvJpegApi.EntryPoints, name => Assert.Contains($"SAME_TYPE({name},", program));
    }

    private static string AbiFile(string name, [CallerFilePath] string here = "") =>
        Path.Combine(Path.GetDirectoryName(here)!, "..", "native", "NvJpegAbi", name);
}
