using Microsoft.ML;
using TrtMLNet.Backends;
using TrtMLNet.Scoring;

namespace TrtMLNet.Tests.Support;

/// <summary>Fits a TensorRtTransformer around a test engine, through the same factory the real backends go through.</summary>
internal static class TestEngines
{
    public static TensorRtTransformer Fit(IInferenceEngine engine, byte[] signature, IDataView data, TensorRtOptions options)
    {
        var model = ModelSource.FromBytes(signature, "test model");
        var scorer = ScorerFactory.Create(options, model, name => data.Schema.GetColumnOrNull(name)?.Type,
            contextGpuDeviceId: null, contextFallbackToCpu: null, warn: _ => { }, info: _ => { }, makeEngine: _ => engine);
        return new TensorRtTransformer(HostEnvironment.None, options, model, scorer);
    }
}
