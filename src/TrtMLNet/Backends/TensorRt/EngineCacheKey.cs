using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace TrtMLNet.Backends.TensorRt;

/// <summary>
/// What a built plan depends on, as one SHA-256: the model's bytes, every build option that changes
/// the plan, the TensorRT version actually loaded, the GPU, and the shim's ABI. Two builds with equal
/// keys may share a plan; anything that would make TensorRT refuse a plan, or build a different one,
/// changes the key.
/// </summary>
/// <remarks>
/// Left out on purpose: the timing cache. It only speeds up tactic selection; a plan built with or
/// without it is equally valid for the same inputs, and keying on it would make every build's
/// updated cache invalidate the engine it just built. The CUDA driver is left out too: a plan depends
/// on the TensorRT build and the GPU's architecture, not on the driver.
/// </remarks>
internal sealed class EngineCacheKey : IEquatable<EngineCacheKey>
{
    /// <summary>Changes whenever <see cref="Describe"/> changes what it writes, so old keys never match new meanings.</summary>
    private const string Scheme = "trtmlnet engine cache key 1";

    /// <summary>
    /// The build options that never reach TensorRT's builder, and so are not keyed: the timing cache
    /// file (see the remarks) and what only ONNX Runtime's providers read.
    /// </summary>
    internal static readonly IReadOnlyList<string> NotKeyed =
    [
        // KeepFp32OpTypes changes the rewritten model's bytes, which the key hashes.
        nameof(EngineBuildOptions.KeepFp32OpTypes),
        nameof(EngineBuildOptions.TimingCacheFile), nameof(EngineBuildOptions.CudaGraphs), nameof(EngineBuildOptions.PreferNhwc),
        nameof(EngineBuildOptions.ConvolutionSearch), nameof(EngineBuildOptions.CudnnMaxWorkspace),
        // TensorRT's loader never fuses transformer ops (its parser has no com.microsoft ops).
        nameof(EngineBuildOptions.FuseTransformerOps),
    ];

    private readonly byte[] _hash;

    private EngineCacheKey(string description)
    {
        Description = description;
        _hash = SHA256.HashData(Encoding.UTF8.GetBytes(description));
        Hex = Convert.ToHexStringLower(_hash);
    }

    /// <summary>The key's 32 bytes.</summary>
    public ReadOnlySpan<byte> Hash => _hash;

    /// <summary>The key as 64 lowercase hex digits: the cache entry's file name.</summary>
    public string Hex { get; }

    /// <summary>
    /// The canonical text the key hashes, one component a line: stored in each cache entry, so that a
    /// person (or a warning) can tell what an entry was built for.
    /// </summary>
    public string Description { get; }

    /// <summary>The key of a build of <paramref name="onnx"/> with <paramref name="settings"/> on this TensorRT and GPU.</summary>
    public static EngineCacheKey For(
        ReadOnlySpan<byte> onnx, EngineBuildOptions settings, Version tensorRt, string gpuName, Version computeCapability, int shimAbi)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(tensorRt);
        ArgumentNullException.ThrowIfNull(gpuName);
        ArgumentNullException.ThrowIfNull(computeCapability);
        return new EngineCacheKey(Describe(SHA256.HashData(onnx), settings, tensorRt, gpuName, computeCapability, shimAbi));
    }

    /// <summary>Rebuilds a key from a stored description; equal to the original only if the text is intact.</summary>
    internal static EngineCacheKey FromDescription(string description) => new(description);

    /// <summary>
    /// Every component in a fixed order and a fixed format (invariant culture, names length-prefixed so
    /// no tensor name can imitate another line). Each option of <see cref="EngineBuildOptions"/> that
    /// reaches the builder must appear here; the tests check that the list is complete.
    /// </summary>
    private static string Describe(
        byte[] onnxHash, EngineBuildOptions settings, Version tensorRt, string gpuName, Version computeCapability, int shimAbi)
    {
        var text = new StringBuilder();
        void Line(string name, string value) => text.Append(name).Append('=').Append(value).Append('\n');
        Line("scheme", Scheme);
        Line("onnx-sha256", Convert.ToHexStringLower(onnxHash));
        Line("tensorrt", FullVersion(tensorRt));
        Line("gpu", Quote(gpuName));
        Line("compute-capability", $"{computeCapability.Major}.{computeCapability.Minor}");
        Line("shim-abi", Invariant(shimAbi));
        Line("precision", settings.Precision.ToString());
        Line("allow-tf32", settings.AllowTf32 ? "1" : "0");
        Line("optimization-level", Invariant(settings.BuilderOptimizationLevel ?? -1));
        Line("workspace-bytes", Invariant(settings.WorkspaceBytes ?? 0));
        Line("tactics-enable", "0x" + ((uint)settings.EnableTactics).ToString("x", CultureInfo.InvariantCulture));
        Line("tactics-disable", "0x" + ((uint)settings.DisableTactics).ToString("x", CultureInfo.InvariantCulture));
        Line("max-aux-streams", Invariant(settings.MaxAuxStreams ?? -1));
        Line("profiles", Invariant(settings.Profiles.Count));
        for (var p = 0; p < settings.Profiles.Count; p++)
        {
            // Inputs in name order: the order they were listed in does not change the plan; the profiles' order does (it is their index).
            foreach (var (input, range) in settings.Profiles[p].OrderBy(r => r.Key, StringComparer.Ordinal))
                Line($"profile[{Invariant(p)}]", $"{Quote(input)} min{Dims(range.Min)} opt{Dims(range.Opt)} max{Dims(range.Max)}");
        }
        return text.ToString();
    }

    /// <summary>major.minor.patch.build, with -1 parts written as 0 so that 10.16.0 and 10.16.0.0 agree.</summary>
    private static string FullVersion(Version v) =>
        string.Join(".", new[] { v.Major, v.Minor, v.Build, v.Revision }.Select(part => Invariant(Math.Max(part, 0))));

    private static string Quote(string value) => $"{Invariant(value.Length)}:{value}";

    private static string Dims(long[] dims) => "[" + string.Join(",", dims.Select(d => Invariant(d))) + "]";

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);

    public bool Equals(EngineCacheKey? other) => other is not null && _hash.AsSpan().SequenceEqual(other._hash);

    public override bool Equals(object? obj) => Equals(obj as EngineCacheKey);

    public override int GetHashCode() => BitConverter.ToInt32(_hash, 0);

    public override string ToString() => Hex;
}
