using Microsoft.ML;
using TrtMLNet.Tests.Models;
using TrtMLNet.Tests.Support;

namespace TrtMLNet.Tests;

public class ApplyTensorRtTests
{
    [Fact]
    public void ScoresTheMlpOnTheCpu()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.Mlp(ml, 300);
        using var model = ml.Transforms.ApplyTensorRt(TestModels.MlpPath, batchSize: 64).Fit(data);
        Assert.Equal(TensorRtBackend.OnnxRuntimeCpu, model.Backend);
        var probabilities = TestData.Column<float>(model.Transform(data), "probabilities");
        Assert.Equal(300, probabilities.Count);
        Assert.All(probabilities, p => Assert.Equal(1.0, p.Sum(), 4));
    }
}
