using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.ML;

namespace TrtMLNet.Serving;

/// <summary>The models registered for one row and prediction type; filled by <see cref="PredictionPoolBuilder{TIn, TOut}"/>.</summary>
public sealed class PredictionPoolRegistrations<TIn, TOut> where TIn : class where TOut : class, new()
{
    private readonly List<Registration> _all = [];

    internal IReadOnlyList<Registration> All => _all;

    internal void Add(Registration registration)
    {
        if (_all.Any(r => r.Name == registration.Name))
            throw new InvalidOperationException(
                $"A prediction pool of {typeof(TIn).Name} -> {typeof(TOut).Name} is already registered as '{registration.Name}': give each model its own name.");
        _all.Add(registration);
    }

    /// <summary>The options of a model are the named options "TrtMLNet.Serving:{type}:{model}".</summary>
    internal static string OptionsNameOf(string modelName) => $"TrtMLNet.Serving:{typeof(TIn).FullName}->{typeof(TOut).FullName}:{modelName}";

    internal sealed record Registration(
        string Name,
        Func<IServiceProvider, MLContext, PredictionPoolOptions, ILogger?, IMeterFactory?, PredictionPool<TIn, TOut>> Create)
    {
        public string OptionsName => OptionsNameOf(Name);

        public string DisplayName => Name.Length == 0 ? "default" : Name;
    }
}
