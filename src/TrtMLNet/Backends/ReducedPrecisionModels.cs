using System.Security.Cryptography;
using System.Text;
using TrtMLNet.Onnx;

namespace TrtMLNet.Backends;

/// <summary>
/// The float16 or bfloat16 model that ONNX Runtime CUDA (and strongly typed TensorRT 11) runs for a
/// reduced precision: the float32 model rewritten at fit (<see cref="PrecisionRewrite"/>), with casts at
/// its edges so the columns stay float, cached on disk under the model's bytes and the rewrite's options
/// like engines, so a large model is rewritten once. A cache entry that does not read back as ONNX is
/// rewritten again, with a warning.
/// </summary>
internal static class ReducedPrecisionModels
{
    /// <summary>Changes whenever the rewrite's output for the same input changes, so old entries never match.</summary>
    private const string Scheme = "trtmlnet precision rewrite 1";

    public static ModelSource For(ModelSource model, EngineBuildOptions build, string cacheDirectory, Action<string> info, Action<string> warn)
    {
        if (build.Precision == TensorRtPrecision.Fp32)
            return model;
        var options = new PrecisionRewriteOptions
        {
            Target = build.Precision == TensorRtPrecision.Bf16 ? ReducedPrecision.BFloat16 : ReducedPrecision.Float16,
            BlockedOps = build.KeepFp32OpTypes,
        };
        var path = Path.Combine(cacheDirectory, "reduced-precision", Key(model, options) + ".onnx");
        if (File.Exists(path))
        {
            try
            {
                return ModelSource.FromBytes(File.ReadAllBytes(path), $"{model.Name} ({options.Target.ShortName()}, cached at '{path}')");
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                warn($"The cached {options.Target.ShortName()} rewrite '{path}' of {model.Name} cannot be read ({e.Message}); rewriting it.");
            }
        }
        var bytes = PrecisionRewrite.Rewrite(model.OnnxBytes, options, out var report, model.Name);
        info($"{model.Name}: {report}");
        if (!report.Changed)
            return model;
        AtomicFile.Write(path, stream => stream.Write(bytes));
        return ModelSource.FromBytes(bytes, $"{model.Name} ({options.Target.ShortName()})");
    }

    private static string Key(ModelSource model, PrecisionRewriteOptions options)
    {
        var text = new StringBuilder()
            .Append(Scheme).Append('\n')
            .Append(Convert.ToHexStringLower(SHA256.HashData(model.OnnxBytes))).Append('\n')
            .Append(options.Target).Append('\n')
            .Append(options.KeepIoTypes).Append('\n')
            .AppendJoin(",", options.BlockedOps.Order(StringComparer.Ordinal)).Append('\n')
            .AppendJoin(",", options.BlockedNodes.Order(StringComparer.Ordinal));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }
}
