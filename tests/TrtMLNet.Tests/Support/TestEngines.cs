using Microsoft.ML;
using TrtMLNet.Backends;
using TrtMLNet.Scoring;

namespace TrtMLNet.Tests.Support;

/// <summary>Fits a TensorRtTransformer around a test engine, through the same fitter the real backends go through.</summary>
internal static class TestEngines
{
    public static TensorRtTransformer Fit(IInferenceEngine engine, byte[] signature, IDataView data, TensorRtOptions options, FitEnvironment? environment = null) =>
        Fit(_ => engine, signature, data, options, environment);

    /// <summary>Fits with an engine made from the engine options fitting derives.</summary>
    public static TensorRtTransformer Fit(Func<EngineOptions, IInferenceEngine> makeEngine, byte[] signature, IDataView data, TensorRtOptions options,
        FitEnvironment? environment = null)
    {
        options.Validate();
        var model = ModelSource.FromBytes(signature, "test model");
        var fitted = ModelFitter.Fit(options, model, name => data.Schema.GetColumnOrNull(name)?.Type, environment ?? FitEnvironment.Silent, makeEngine);
        return new TensorRtTransformer(options, model, fitted);
    }
}
