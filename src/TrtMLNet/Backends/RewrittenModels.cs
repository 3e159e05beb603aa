using System.Security.Cryptography;
using System.Text;
using TrtMLNet.Onnx;

namespace TrtMLNet.Backends;

/// <summary>
/// The model an engine runs when fit rewrites it: transformer ops fused for ONNX Runtime
/// (<see cref="TransformerFusions"/>, when <see cref="EngineBuildOptions.FuseTransformerOps"/>), then converted to
/// float16 or bfloat16 (<see cref="PrecisionRewrite"/>) for ONNX Runtime CUDA and strongly typed TensorRT 11,
/// with casts at its edges so the columns stay float. Cached on disk under the model's bytes and the
/// rewrites' options, like engines, so a large model is rewritten once. A cache entry that does not read
/// back as ONNX is rewritten again, with a warning.
/// </summary>
internal static class RewrittenModels
{
    /// <summary>Changes whenever a rewrite's output for the same input changes, so old entries never match.</summary>
    private const string Scheme = "trtmlnet precision rewrite 1";

    /// <summary>
    /// The model as the backend should get it, rewritten as <paramref name="build"/> says. A backend that cannot
    /// take fused transformer ops (TensorRT: its parser has no com.microsoft ops, and it fuses these itself)
    /// passes <see cref="EngineBuildOptions.FuseTransformerOps"/> off.
    /// </summary>
    public static ModelSource For(ModelSource model, EngineBuildOptions build, string cacheDirectory, Action<string> info, Action<string> warn)
    {
        var fuse = build.FuseTransformerOps;
        if (build.Precision == TensorRtPrecision.Fp32 && !fuse)
            return model;
        PrecisionRewriteOptions? precision = build.Precision == TensorRtPrecision.Fp32 ? null : new PrecisionRewriteOptions
        {
            Target = build.Precision == TensorRtPrecision.Bf16 ? ReducedPrecision.BFloat16 : ReducedPrecision.Float16,
            BlockedOps = build.KeepFp32OpTypes,
        };
        var what = string.Join(", ", new[] { fuse ? "transformer ops fused" : null, precision?.Target.ShortName() }.OfType<string>());
        var path = Path.Combine(cacheDirectory, "reduced-precision", Key(model, precision, fuse) + ".onnx");
        // A model the rewrites leave as it is (most models have no transformer blocks to fuse) gets an empty
        // marker instead of a copy, so later fits do not parse it again to find nothing.
        var unchanged = Path.ChangeExtension(path, ".unchanged");
        if (File.Exists(unchanged))
            return model;
        if (File.Exists(path))
        {
            try
            {
                var cached = ModelSource.FromBytes(File.ReadAllBytes(path), $"{model.Name} ({what}, cached at '{path}')");
                info($"{model.Name}: the rewritten model ({what}) comes from the cache, '{path}'.");
                return cached;
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                warn($"The cached rewrite '{path}' ({what}) of {model.Name} cannot be read ({e.Message}); rewriting it.");
            }
        }
        // Parsed once and written once: the fusions and the precision rewrite edit the same message.
        var proto = ModelProto.Parse(model.OnnxBytes, model.Name);
        var changed = false;
        if (fuse)
        {
            // Ops kept in FP32 matter only to a precision rewrite (and then they are part of the key).
            var fusions = TransformerFusions.Run(proto, precision?.BlockedOps ?? []);
            info($"{model.Name}: {fusions}");
            changed = fusions.Changed;
        }
        if (precision is not null)
        {
            var report = PrecisionRewrite.Rewrite(proto, model.OnnxBytes.LongLength, precision, model.Name);
            info($"{model.Name}: {report}");
            changed |= report.Changed;
        }
        if (!changed)
        {
            AtomicFile.Write(unchanged, _ => { });
            return model;
        }
        var bytes = proto.ToBytes();
        AtomicFile.Write(path, stream => stream.Write(bytes));
        return ModelSource.FromBytes(bytes, $"{model.Name} ({what})");
    }

    private static string Key(ModelSource model, PrecisionRewriteOptions? options, bool fuseTransformerOps)
    {
        var text = new StringBuilder()
            .Append(Scheme).Append('\n')
            .Append(Convert.ToHexStringLower(SHA256.HashData(model.OnnxBytes))).Append('\n');
        if (options is not null)
        {
            text.Append(options.Target).Append('\n')
                .Append(options.KeepIoTypes).Append('\n')
                .AppendJoin(",", options.BlockedOps.Order(StringComparer.Ordinal)).Append('\n')
                .AppendJoin(",", options.BlockedNodes.Order(StringComparer.Ordinal));
        }
        // Appended only when on, so the keys of entries made before the option existed stay as they were;
        // the version changes whenever TransformerFusions' output for the same model changes.
        if (fuseTransformerOps)
            text.Append("\nfuse transformer ops 3");
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }
}
