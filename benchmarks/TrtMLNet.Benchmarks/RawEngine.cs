using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.ML;
using Microsoft.ML.OnnxRuntime;
using TrtMLNet.Backends;
using TrtMLNet.Backends.OnnxRuntime;
using TrtMLNet.Native.Cuda;
using OrtType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;

namespace TrtMLNet.Benchmarks;

/// <summary>
/// The engine alone, as trtexec --noDataTransfers measures one: the session ApplyTensorRt makes for a
/// setting (same session options, same rewritten model for FP16), inputs and outputs bound once in device
/// memory (random values, never zeros), runs back to back on one thread, with the CUDA graph replayed
/// when the setting captures one.
/// </summary>
internal sealed class RawEngine : IDisposable
{
    private readonly InferenceSession _session;
    private readonly OrtMemoryInfo _memoryInfo = new(OrtMemoryInfo.allocatorCUDA, OrtAllocatorType.DeviceAllocator, 0, OrtMemType.Default);
    private readonly List<IDisposable> _owned = [];
    private readonly bool _graphs;
    private OrtIoBinding? _binding;
    private RunOptions? _runOptions;
    private int _graphId;

    public RawEngine(string modelPath, GpuBenchmark.Setting setting, MLContext ml)
    {
        var options = new TensorRtOptions { ModelFile = modelPath };
        setting.Apply(options);
        var engineOptions = new EngineOptions { Backend = TensorRtBackend.OnnxRuntimeCuda, DeviceId = 0, Build = EngineBuildOptions.From(options, []) };
        var model = RewrittenModels.For(ModelSource.Load(modelPath), engineOptions.Build, EngineCacheDefault, _ => { }, _ => { });
        using var sessionOptions = OnnxRuntimeSessionOptions.Create(engineOptions);
        _session = new InferenceSession(model.OnnxBytes, sessionOptions);
        _graphs = setting.Graphs;
    }

    private static string EngineCacheDefault => Backends.TensorRt.EngineCache.DefaultDirectory;

    /// <summary>Binds buffers for <paramref name="batch"/> rows and returns one timed pass: a few runs, the rows they scored and the seconds.</summary>
    public Func<(long Rows, double Seconds)> Prepare(int batch)
    {
        Release();
        _binding = _session.CreateIoBinding();
        _runOptions = new RunOptions();
        if (_graphs)
            _runOptions.AddRunConfigEntry("gpu_graph_id", (_graphId++).ToString(System.Globalization.CultureInfo.InvariantCulture));
        var random = new Random(batch);
        foreach (var (name, meta) in _session.InputMetadata)
            Bind(name, meta, batch, input: true, random);
        foreach (var (name, meta) in _session.OutputMetadata)
            Bind(name, meta, batch, input: false, random);
        var runs = Math.Max(1, 256 / batch);
        return () =>
        {
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < runs; i++)
                _session.RunWithBinding(_runOptions, _binding);
            _binding.SynchronizeBoundOutputs();
            return ((long)runs * batch, watch.Elapsed.TotalSeconds);
        };
    }

    private unsafe void Bind(string name, NodeMetadata meta, int batch, bool input, Random random)
    {
        var device = CudaDriver.GetDevice(0);
        var shape = meta.Dimensions.Select((d, i) => d > 0 ? d : i == 0 ? batch : 128).Select(d => (long)d).ToArray();
        var count = shape.Aggregate(1L, (a, b) => a * b);
        var elementSize = meta.ElementDataType is OrtType.Int64 or OrtType.Double ? 8 : meta.ElementDataType is OrtType.Float16 ? 2 : 4;
        var memory = device.Allocate(count * elementSize, name);
        _owned.Add(memory);
        if (input)
        {
            // Values like the benchmark's rows: pixels in [-1, 1), token ids and full masks.
            var host = new byte[count * elementSize];
            if (meta.ElementDataType == OrtType.Int64)
                FillTokens(MemoryMarshal.Cast<byte, long>(host.AsSpan()), name.Contains("mask", StringComparison.Ordinal), random);
            else
                FillPixels(MemoryMarshal.Cast<byte, float>(host.AsSpan()), random);
            using var stream = device.CreateStream();
            fixed (byte* pointer = host)
            {
                stream.CopyToDevice(memory.Pointer, (IntPtr)pointer, host.Length);
                stream.Synchronize();
            }
        }
        var value = OrtValue.CreateTensorValueWithData(_memoryInfo, meta.ElementDataType, shape, memory.Pointer, count * elementSize);
        _owned.Add(value);
        if (input) _binding!.BindInput(name, value);
        else _binding!.BindOutput(name, value);
    }

    private static void FillTokens(Span<long> values, bool mask, Random random)
    {
        for (var i = 0; i < values.Length; i++) values[i] = mask ? 1 : random.Next(1000, 30000);
    }

    private static void FillPixels(Span<float> values, Random random)
    {
        for (var i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
    }

    private void Release()
    {
        _binding?.Dispose();
        _runOptions?.Dispose();
        foreach (var o in _owned) o.Dispose();
        _owned.Clear();
    }

    public void Dispose()
    {
        Release();
        _session.Dispose();
        _memoryInfo.Dispose();
    }
}
