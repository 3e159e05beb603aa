namespace TrtMLNet.Tests.TensorRt;

/// <summary>Optimization profiles as <see cref="EngineBuildOptions.Profiles"/> holds them, written briefly.</summary>
internal static class TestProfiles
{
    public static IReadOnlyDictionary<string, (long[] Min, long[] Opt, long[] Max)> Of(params (string Input, long[] Min, long[] Opt, long[] Max)[] ranges) =>
        ranges.ToDictionary(r => r.Input, r => (r.Min, r.Opt, r.Max));

    /// <summary>The BERT-like test model's two inputs over one range.</summary>
    public static IReadOnlyDictionary<string, (long[] Min, long[] Opt, long[] Max)> Bert(long min, long opt, long max) =>
        Of(("input_ids", [min, 128], [opt, 128], [max, 128]), ("attention_mask", [min, 128], [opt, 128], [max, 128]));
}
