using Microsoft.ML;

namespace TrtMLNet.GpuTests.Support;

internal static class TestEnginesOnGpu
{
    public static TensorRtTransformer Fit(SyntheticCudaEngine engine, IDataView data, TensorRtOptions options) =>
        Tests.Support.TestEngines.Fit(engine, SyntheticCudaEngine.Signature(engine.Width), data, options);
}
