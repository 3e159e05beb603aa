using System.Reflection;
using TrtMLNet.Native.Cuda;

namespace TrtMLNet.GpuTests.Support;

/// <summary>What the GPU tests need from the machine, with a clear reason to skip when it is not there.</summary>
internal static class Gpu
{
    /// <summary>Folder of the models exported on the GPU machine by export_models.py (ResNet-50, BERT-base).</summary>
    public const string ModelsVariable = "TRTMLNET_GPU_MODELS";

    /// <summary>GPU 0, or skips the test saying why there is none.</summary>
    public static CudaDevice Require()
    {
        if (!CudaDriver.IsAvailable(out var reason))
            Assert.Skip($"No GPU here: {reason}");
        if (!Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetAvailableProviders().Contains("CUDAExecutionProvider"))
            Assert.Skip("This build has ONNX Runtime's CPU package: publish with OrtFlavor=Gpu (../shared/gpu/bundle.sh) to run the GPU tests.");
        return CudaDriver.GetDevice(0);
    }

    /// <summary>A model exported on the GPU machine, or skips when it was not exported.</summary>
    public static string Model(string file)
    {
        Require();
        var folder = Environment.GetEnvironmentVariable(ModelsVariable);
        var path = folder is null ? null : Path.Combine(folder, file);
        if (path is null || !File.Exists(path))
            Assert.Skip($"{file} was not exported: run tests/TrtMLNet.GpuTests/export_models.py DIR and set {ModelsVariable}=DIR.");
        return path!;
    }

    public static string KernelsPtx()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("kernels.ptx")!;
        return new StreamReader(stream).ReadToEnd();
    }

    /// <summary>Free device memory now, as the driver sees it.</summary>
    public static long FreeBytes(CudaDevice device) => device.GetMemoryInfo().Free;

    public static string MiB(long bytes) => $"{bytes / (1024.0 * 1024):0.0} MiB";

    /// <summary>Environment variable naming a file where tests append what they measured (the GPU run brings it back).</summary>
    public const string NotesVariable = "TRTMLNET_GPU_NOTES";

    /// <summary>Records a measurement: in the test's diagnostics, and in the notes file when one is named.</summary>
    public static void Note(string text)
    {
        TestContext.Current.SendDiagnosticMessage(text);
        if (Environment.GetEnvironmentVariable(NotesVariable) is { Length: > 0 } path)
            lock (typeof(Gpu))
                File.AppendAllText(path, $"[{TestContext.Current.Test?.TestDisplayName}]\n{text}\n\n");
    }
}
