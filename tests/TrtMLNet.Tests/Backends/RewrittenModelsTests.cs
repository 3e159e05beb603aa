using TrtMLNet.Backends;
using TrtMLNet.Tests.Models;
using TrtMLNet.Tests.TensorRt;

namespace TrtMLNet.Tests.Backends;

/// <summary>The rewritten models ONNX Runtime CUDA runs at FP16/BF16: cached on disk under the model and the rewrite's options.</summary>
public sealed class RewrittenModelsTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly List<string> _warnings = [];
    private readonly List<string> _info = [];

    public void Dispose() => _folder.Dispose();

    private ModelSource For(ModelSource model, EngineBuildOptions build) => RewrittenModels.For(model, build, _folder.Path, _info.Add, _warnings.Add);

    [Fact]
    public void A_rewrite_is_cached_and_read_back_and_a_damaged_entry_is_rewritten_with_a_warning()
    {
        var model = ModelSource.FromBytes(TestModels.Mlp().Build(), "mlp");
        var fp16 = new EngineBuildOptions { Precision = TensorRtPrecision.Fp16 };

        var first = For(model, fp16);
        var entry = Assert.Single(Directory.GetFiles(Path.Combine(_folder.Path, "reduced-precision")));
        var second = For(model, fp16);

        Assert.NotEqual(model.OnnxBytes, first.OnnxBytes);
        Assert.Equal(first.OnnxBytes, second.OnnxBytes);
        Assert.Contains("cached", second.Name);
        Assert.Equal(model.Onnx.Inputs.Select(i => (i.Name, i.TypeName)), second.Onnx.Inputs.Select(i => (i.Name, i.TypeName)));

        File.WriteAllBytes(entry, [1, 2, 3]);
        var third = For(model, fp16);
        Assert.Equal(first.OnnxBytes, third.OnnxBytes);
        Assert.Contains(_warnings, w => w.Contains(entry, StringComparison.Ordinal));
    }

    [Fact]
    public void Other_options_are_other_entries_and_fp32_is_the_model_itself()
    {
        var model = ModelSource.FromBytes(TestModels.Mlp().Build(), "mlp");

        For(model, new EngineBuildOptions { Precision = TensorRtPrecision.Fp16 });
        For(model, new EngineBuildOptions { Precision = TensorRtPrecision.Fp16, KeepFp32OpTypes = ["Relu"] });
        For(model, new EngineBuildOptions { Precision = TensorRtPrecision.Bf16 });

        Assert.Equal(3, Directory.GetFiles(Path.Combine(_folder.Path, "reduced-precision")).Length);
        Assert.Same(model, For(model, new EngineBuildOptions()));
    }

    [Fact]
    public void A_model_with_nothing_to_fuse_is_left_as_it_is_and_marked_so_the_next_fit_does_not_look_again()
    {
        var model = ModelSource.FromBytes(TestModels.Mlp().Build(), "mlp");

        Assert.Same(model, For(model, new EngineBuildOptions()));
        Assert.Contains(_info, m => m.Contains("found nothing it could fuse", StringComparison.Ordinal));
        Assert.EndsWith(".unchanged", Assert.Single(Directory.GetFiles(Path.Combine(_folder.Path, "reduced-precision"))), StringComparison.Ordinal);

        _info.Clear();
        Assert.Same(model, For(model, new EngineBuildOptions()));
        Assert.Empty(_info);
    }
}
