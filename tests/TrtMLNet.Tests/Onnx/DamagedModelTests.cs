using TrtMLNet.Onnx;
using TrtMLNet.Tests.Models;

namespace TrtMLNet.Tests.Onnx;

/// <summary>Damaged bytes give a clear error (or a model), never a crash of another kind.</summary>
public class DamagedModelTests
{
    [Fact]
    public void DamagedModelsAreRefusedWithAClearError()
    {
        var model = TestModels.TinyEncoder().Build();
        var random = new Random(99);
        var outcomes = new Dictionary<string, int>();
        for (var trial = 0; trial < 2000; trial++)
        {
            var damaged = (byte[])model.Clone();
            for (var flips = random.Next(1, 4); flips > 0; flips--)
                damaged[random.Next(damaged.Length)] = (byte)random.Next(256);
            if (trial % 4 == 0)
                damaged = damaged[..random.Next(1, damaged.Length)]; // truncated
            string outcome;
            try
            {
                PrecisionRewrite.Rewrite(damaged, new PrecisionRewriteOptions(), out _);
                outcome = "rewritten";
            }
            catch (Exception e) when (e is InvalidDataException or NotSupportedException)
            {
                Assert.False(string.IsNullOrWhiteSpace(e.Message));
                outcome = e.GetType().Name;
            }
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }
        TestContext.Current.SendDiagnosticMessage(string.Join(", ", outcomes.Select(p => $"{p.Key}: {p.Value}")));
        Assert.True(outcomes.GetValueOrDefault(nameof(InvalidDataException)) > 0);
    }
}
