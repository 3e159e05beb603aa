using System.Text;
using TrtMLNet.Backends.TensorRt;

namespace TrtMLNet.Tests.TensorRt;

/// <summary>
/// The engine cache key: equal exactly when a plan could be shared, so it must change with every
/// component a plan depends on and with nothing else.
/// </summary>
public sealed class EngineCacheKeyTests
{
    internal static readonly byte[] Onnx = Encoding.UTF8.GetBytes("FAKEONNX\ninput x 1 [-1,4]\noutput y 1 [-1,4]\n");

    internal static EngineBuildOptions Settings() => new()
    {
        Precision = TensorRtPrecision.Fp32,
        BuilderOptimizationLevel = 3,
        WorkspaceBytes = 1L << 30,
        EnableTactics = TensorRtTacticSources.JitConvolutions,
        DisableTactics = TensorRtTacticSources.EdgeMaskConvolutions,
        MaxAuxStreams = 2,
        Profiles =
        [
            TestProfiles.Of(("x", [1, 4], [8, 4], [16, 4]), ("mask", [1, 4], [8, 4], [16, 4])),
            TestProfiles.Of(("x", [32, 4], [32, 4], [32, 4]), ("mask", [32, 4], [32, 4], [32, 4])),
        ],
    };

    internal static EngineCacheKey Key(
        byte[]? onnx = null, EngineBuildOptions? settings = null, Version? tensorRt = null, string gpu = "NVIDIA H100 80GB HBM3",
        Version? computeCapability = null, int shimAbi = 1) =>
        EngineCacheKey.For(onnx ?? Onnx, settings ?? Settings(), tensorRt ?? new Version(10, 16, 0, 72), gpu, computeCapability ?? new Version(9, 0), shimAbi);

    [Fact]
    public void Equal_inputs_give_equal_keys()
    {
        var a = Key();
        var b = Key(onnx: Onnx.ToArray(), settings: Settings());

        Assert.Equal(a, b);
        Assert.Equal(a.Hex, b.Hex);
        Assert.Equal(a.Description, b.Description);
        Assert.Equal(64, a.Hex.Length);
        Assert.Matches("^[0-9a-f]{64}$", a.Hex);
    }

    [Fact]
    public void The_order_inputs_are_listed_in_a_profile_does_not_matter()
    {
        var reordered = Settings() with
        {
            Profiles =
            [
                TestProfiles.Of(("mask", [1, 4], [8, 4], [16, 4]), ("x", [1, 4], [8, 4], [16, 4])),
                TestProfiles.Of(("mask", [32, 4], [32, 4], [32, 4]), ("x", [32, 4], [32, 4], [32, 4])),
            ],
        };

        Assert.Equal(Key(), Key(settings: reordered));
    }

    [Fact]
    public void The_timing_cache_file_is_not_part_of_the_key()
    {
        // Its contents change after every build; keying on it would invalidate the engine each build produced.
        Assert.Equal(Key(), Key(settings: Settings() with { TimingCacheFile = "/tmp/timing.cache" }));
    }

    [Fact]
    public void Versions_with_and_without_a_zero_build_agree()
    {
        Assert.Equal(Key(tensorRt: new Version(10, 16, 0, 0)), Key(tensorRt: new Version(10, 16, 0)));
    }

    /// <summary>Each component a plan depends on, changed alone. The names of build settings are their property names.</summary>
    public static TheoryData<string> Components => new(ComponentChanges.Keys);

    private static readonly Dictionary<string, Func<EngineCacheKey>> ComponentChanges = new()
    {
        ["onnx: one byte"] = () => Key(onnx: Flip(Onnx, 12)),
        ["onnx: one byte more"] = () => Key(onnx: [.. Onnx, (byte)' ']),
        ["tensorrt: minor"] = () => Key(tensorRt: new Version(10, 15, 0, 72)),
        ["tensorrt: patch"] = () => Key(tensorRt: new Version(10, 16, 1, 72)),
        ["tensorrt: build"] = () => Key(tensorRt: new Version(10, 16, 0, 73)),
        ["tensorrt: major"] = () => Key(tensorRt: new Version(11, 16, 0, 72)),
        ["gpu name"] = () => Key(gpu: "NVIDIA H200"),
        ["compute capability: major"] = () => Key(computeCapability: new Version(8, 0)),
        ["compute capability: minor"] = () => Key(computeCapability: new Version(9, 1)),
        ["shim abi"] = () => Key(shimAbi: 2),
        [nameof(EngineBuildOptions.Precision)] = () => Key(settings: Settings() with { Precision = TensorRtPrecision.Fp16 }),
        [nameof(EngineBuildOptions.AllowTf32)] = () => Key(settings: Settings() with { AllowTf32 = false }),
        [nameof(EngineBuildOptions.BuilderOptimizationLevel)] = () => Key(settings: Settings() with { BuilderOptimizationLevel = 5 }),
        [nameof(EngineBuildOptions.WorkspaceBytes)] = () => Key(settings: Settings() with { WorkspaceBytes = 2L << 30 }),
        [nameof(EngineBuildOptions.EnableTactics)] = () => Key(settings: Settings() with { EnableTactics = TensorRtTacticSources.None }),
        [nameof(EngineBuildOptions.DisableTactics)] = () => Key(settings: Settings() with { DisableTactics = TensorRtTacticSources.Cudnn | TensorRtTacticSources.EdgeMaskConvolutions }),
        [nameof(EngineBuildOptions.MaxAuxStreams)] = () => Key(settings: Settings() with { MaxAuxStreams = 0 }),
        [nameof(EngineBuildOptions.Profiles)] = () => Key(settings: Settings() with { Profiles = Settings().Profiles.Take(1).ToList() }),
        ["profiles: order"] = () => Key(settings: Settings() with { Profiles = Settings().Profiles.Reverse().ToList() }),
        ["profiles: a min"] = () => Key(settings: WithFirstRange(r => ("x", [2, 4], r.Opt, r.Max))),
        ["profiles: an opt"] = () => Key(settings: WithFirstRange(r => ("x", r.Min, [4, 4], r.Max))),
        ["profiles: a max"] = () => Key(settings: WithFirstRange(r => ("x", r.Min, r.Opt, [17, 4]))),
        ["profiles: an input name"] = () => Key(settings: WithFirstRange(r => ("x2", r.Min, r.Opt, r.Max))),
    };

    [Theory]
    [MemberData(nameof(Components))]
    public void Each_component_changes_the_key(string component)
    {
        var changed = ComponentChanges[component]();

        Assert.NotEqual(Key(), changed);
        Assert.NotEqual(Key().Hex, changed.Hex);
    }

    [Fact]
    public void Every_build_setting_that_reaches_tensorrt_is_part_of_the_key()
    {
        // A setting added to EngineBuildOptions must be added to the key (and to the theory above), or
        // engines built with different values of it would be shared. Left out, each for its reason: the
        // timing cache (see above) and what only ONNX Runtime's providers read.
        var settings = typeof(EngineBuildOptions).GetProperties().Where(p => p.Name != "EqualityContract").Select(p => p.Name);
        var covered = ComponentChanges.Keys.Concat(EngineCacheKey.NotKeyed);

        Assert.Empty(settings.Except(covered));
    }

    [Fact]
    public void Names_cannot_imitate_other_components()
    {
        // A tensor name holding what looks like a second line and range must not collide with two inputs.
        var sneaky = Settings() with { Profiles = [TestProfiles.Of(("a max[1]\nprofile[0]=1:b", [1], [1], [1]))] };
        var honest = Settings() with { Profiles = [TestProfiles.Of(("a", [1], [1], [1]), ("b", [1], [1], [1]))] };

        Assert.NotEqual(Key(settings: sneaky), Key(settings: honest));
    }

    [Fact]
    public void The_description_says_what_an_entry_was_built_for()
    {
        var description = Key().Description;

        Assert.Contains("tensorrt=10.16.0.72", description);
        Assert.Contains("gpu=21:NVIDIA H100 80GB HBM3", description);
        Assert.Contains("compute-capability=9.0", description);
        Assert.Contains("shim-abi=1", description);
        Assert.Contains("precision=Fp32", description);
        Assert.Contains("profile[1]=4:mask min[32,4] opt[32,4] max[32,4]", description);
        Assert.Equal(Key(), EngineCacheKey.FromDescription(description));
    }

    private static EngineBuildOptions WithFirstRange(Func<(long[] Min, long[] Opt, long[] Max), (string Input, long[] Min, long[] Opt, long[] Max)> change)
    {
        var settings = Settings();
        var first = settings.Profiles[0];
        var changed = change(first["x"]);
        var profile = TestProfiles.Of([changed, .. first.Where(p => p.Key != "x").Select(p => (p.Key, p.Value.Min, p.Value.Opt, p.Value.Max))]);
        return settings with { Profiles = [profile, .. settings.Profiles.Skip(1)] };
    }

    private static byte[] Flip(byte[] bytes, int index)
    {
        var copy = bytes.ToArray();
        copy[index] ^= 0x01;
        return copy;
    }
}
