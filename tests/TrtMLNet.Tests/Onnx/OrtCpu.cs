using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using OrtElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;

namespace TrtMLNet.Tests.Onnx;

/// <summary>Runs a model on ONNX Runtime's CPU provider and compares float outputs.</summary>
internal static class OrtCpu
{
    public sealed record Input(string Name, Array Data, long[] Shape);

    public sealed record Output(float[] Values, long[] Shape, OrtElementType Type);

    /// <summary>Every output of the model with its shape and type; numbers of other types are given as float32 values.</summary>
    public static Dictionary<string, Output> Run(byte[] model, params Input[] inputs)
    {
        using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        using var session = new InferenceSession(model, options);
        var values = inputs.Select(i => i.Data switch
        {
            float[] f => OrtValue.CreateTensorValueFromMemory(f, i.Shape),
            long[] l => OrtValue.CreateTensorValueFromMemory(l, i.Shape),
            int[] n => OrtValue.CreateTensorValueFromMemory(n, i.Shape),
            bool[] b => OrtValue.CreateTensorValueFromMemory(b, i.Shape),
            double[] d => OrtValue.CreateTensorValueFromMemory(d, i.Shape),
            _ => throw new ArgumentException($"input {i.Name}: {i.Data.GetType()}"),
        }).ToList();
        try
        {
            var names = session.OutputNames.ToList();
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, inputs.Select(i => i.Name).ToList(), values, names);
            var result = new Dictionary<string, Output>(StringComparer.Ordinal);
            for (var i = 0; i < names.Count; i++)
            {
                var info = outputs[i].GetTensorTypeAndShape();
                var value = outputs[i];
                float[] numbers = info.ElementDataType switch
                {
                    OrtElementType.Float => value.GetTensorDataAsSpan<float>().ToArray(),
                    OrtElementType.Int64 => [.. value.GetTensorDataAsSpan<long>().ToArray().Select(v => (float)v)],
                    OrtElementType.Int32 => [.. value.GetTensorDataAsSpan<int>().ToArray().Select(v => (float)v)],
                    OrtElementType.Bool => [.. value.GetTensorDataAsSpan<bool>().ToArray().Select(v => v ? 1f : 0f)],
                    OrtElementType.Double => [.. value.GetTensorDataAsSpan<double>().ToArray().Select(v => (float)v)],
                    _ => throw new InvalidOperationException($"Output {names[i]} is {info.ElementDataType}."),
                };
                result[names[i]] = new Output(numbers, info.Shape, info.ElementDataType);
            }
            return result;
        }
        finally
        {
            values.ForEach(v => v.Dispose());
        }
    }

    /// <summary>‖b − a‖ / ‖a‖ over the whole output.</summary>
    public static double RelativeError(float[] expected, float[] actual)
    {
        double difference = 0, norm = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            difference += Math.Pow(actual[i] - expected[i], 2);
            norm += Math.Pow(expected[i], 2);
        }
        return Math.Sqrt(difference / norm);
    }

    /// <summary>The smallest cosine similarity between matching rows (vectors along the last dimension).</summary>
    public static double MinRowCosine(float[] expected, float[] actual, long rowLength)
    {
        var smallest = 1.0;
        for (long start = 0; start < expected.Length; start += rowLength)
        {
            double dot = 0, a = 0, b = 0;
            for (var i = start; i < start + rowLength; i++)
            {
                dot += (double)expected[i] * actual[i];
                a += (double)expected[i] * expected[i];
                b += (double)actual[i] * actual[i];
            }
            smallest = Math.Min(smallest, dot / Math.Sqrt(a * b));
        }
        return smallest;
    }
}
