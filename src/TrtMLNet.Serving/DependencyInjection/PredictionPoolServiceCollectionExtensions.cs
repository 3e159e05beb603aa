using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace TrtMLNet.Serving;

public static class PredictionPoolServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="PredictionPools{TIn, TOut}"/> (a singleton holding one pool per named model) and a
    /// hosted service that creates the pools at start-up, so their warm-up runs before the first request
    /// and the health check reports it. Name the models with <c>.FromFile(...)</c> or <c>.FromModel(...)</c>;
    /// the model registered without a name is also injectable as <see cref="PredictionPool{TIn, TOut}"/>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Options for every model of this type (each model's own come after).</param>
    public static PredictionPoolBuilder<TIn, TOut> AddPredictionPool<TIn, TOut>(this IServiceCollection services, Action<PredictionPoolOptions>? configure = null)
        where TIn : class where TOut : class, new()
    {
        ArgumentNullException.ThrowIfNull(services);
        var registrations = services.FirstOrDefault(d => d.ServiceType == typeof(PredictionPoolRegistrations<TIn, TOut>))?.ImplementationInstance
            as PredictionPoolRegistrations<TIn, TOut>;
        if (registrations is null)
        {
            registrations = new PredictionPoolRegistrations<TIn, TOut>();
            services.AddSingleton(registrations);
            services.AddOptions();
            services.TryAddSingleton<PredictionPools<TIn, TOut>>();
            services.TryAddSingleton(sp => sp.GetRequiredService<PredictionPools<TIn, TOut>>().Default);
            services.AddSingleton<IHostedService, PredictionPoolStartup<TIn, TOut>>();
        }
        return new PredictionPoolBuilder<TIn, TOut>(services, registrations, configure);
    }
}

/// <summary>Creates the pools when the host starts, which starts their warm-up (in the background: start-up is not held up).</summary>
internal sealed class PredictionPoolStartup<TIn, TOut>(PredictionPools<TIn, TOut> pools) : IHostedService
    where TIn : class where TOut : class, new()
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        pools.StartAll();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
