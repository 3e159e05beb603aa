using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace TrtMLNet.Serving;

/// <summary>
/// Ready when the pool's model has run its warm-up batch. Unhealthy while the model loads or warms up,
/// and when it failed to; Degraded when the last reload failed (the previous model still serves) or the
/// queue is over half of MaxQueue. The data carries the model's version and source, the batch size and
/// the queue length.
/// </summary>
public sealed class PredictionPoolHealthCheck<TIn, TOut>(PredictionPools<TIn, TOut> pools, string modelName) : IHealthCheck
    where TIn : class where TOut : class, new()
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var pool = pools.Peek(modelName, out var loadError);
        if (pool is null)
            return Task.FromResult(loadError is null
                ? HealthCheckResult.Unhealthy("The model is loading.")
                : HealthCheckResult.Unhealthy($"The model could not be loaded: {loadError.Message}", loadError));
        return Task.FromResult(Check(pool));
    }

    internal static HealthCheckResult Check(PredictionPool<TIn, TOut> pool)
    {
        var data = new Dictionary<string, object>
        {
            ["status"] = pool.Status.ToString(),
            ["modelVersion"] = pool.ModelVersion,
            ["modelSource"] = pool.ModelSource,
            ["maxBatchSize"] = pool.MaxBatchSize,
            ["queueLength"] = pool.QueueLength,
        };
        if (pool.LastReloadError is { } reloadError)
            data["lastReloadError"] = reloadError;
        return pool.Status switch
        {
            PredictionPoolStatus.WarmingUp => HealthCheckResult.Unhealthy("The model is warming up.", data: data),
            PredictionPoolStatus.Failed => HealthCheckResult.Unhealthy("The model failed its warm-up batch.", pool.WhenReady.Exception?.InnerException, data),
            PredictionPoolStatus.Disposed => HealthCheckResult.Unhealthy("The pool is disposed.", data: data),
            _ when pool.LastReloadError is not null => HealthCheckResult.Degraded($"The last reload failed; model version {pool.ModelVersion} still serves.", data: data),
            _ when pool.QueueLength > pool.Options.MaxQueue / 2 =>
                HealthCheckResult.Degraded($"The queue holds {pool.QueueLength} of at most {pool.Options.MaxQueue} requests.", data: data),
            _ => HealthCheckResult.Healthy($"Serving model version {pool.ModelVersion}.", data),
        };
    }
}

public static class PredictionPoolHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds a health check of the pool of model <paramref name="modelName"/> (see
    /// <see cref="PredictionPoolHealthCheck{TIn, TOut}"/>), tagged "ready" so it can back a readiness probe
    /// (<c>app.MapHealthChecks("/health/ready", new() { Predicate = c => c.Tags.Contains("ready") })</c>).
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="modelName">The model's name in AddPredictionPool ("" for the one without a name).</param>
    /// <param name="name">The check's name; default "prediction-pool" or "prediction-pool:{modelName}".</param>
    /// <param name="tags">Tags; default "ready".</param>
    public static IHealthChecksBuilder AddPredictionPoolCheck<TIn, TOut>(this IHealthChecksBuilder builder, string modelName = "", string? name = null,
        IEnumerable<string>? tags = null)
        where TIn : class where TOut : class, new()
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new HealthCheckRegistration(
            name ?? (modelName.Length == 0 ? "prediction-pool" : $"prediction-pool:{modelName}"),
            sp => new PredictionPoolHealthCheck<TIn, TOut>(sp.GetRequiredService<PredictionPools<TIn, TOut>>(), modelName),
            failureStatus: HealthStatus.Unhealthy,
            tags: tags ?? ["ready"]));
    }
}
