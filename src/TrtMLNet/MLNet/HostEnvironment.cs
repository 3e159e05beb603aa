using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using TrtMLNet.Scoring;

namespace TrtMLNet;

/// <summary>
/// The bits of an MLContext a transform outside ML.NET needs: its log and its GPU settings. ML.NET
/// keeps a catalog's environment internal (its catalogs are built for friend assemblies), so it is
/// read by reflection from the catalog's private field; when that fails (a future ML.NET) TrtMLNet
/// still works, without the MLContext's log and GPU default.
/// </summary>
internal sealed class HostEnvironment
{
    private readonly IHostEnvironment? _env;

    private HostEnvironment(IHostEnvironment? env) => _env = env;

    public static HostEnvironment None { get; } = new(null);

    public static HostEnvironment From(TransformsCatalog catalog) => FromPrivateField(catalog);

    public static HostEnvironment From(ModelOperationsCatalog catalog) => FromPrivateField(catalog);

    private static HostEnvironment FromPrivateField(object catalog) =>
        new(catalog.GetType().GetField("_env", BindingFlags.NonPublic | BindingFlags.Instance)?.GetValue(catalog) as IHostEnvironment);

    public static HostEnvironment From(MLContext context) => new(context);

    /// <summary>MLContext.GpuDeviceId, as the environment carries it.</summary>
    public int? GpuDeviceId => ReadProperty<int?>("GpuDeviceId");

    public bool? FallbackToCpu => ReadProperty<bool?>("FallbackToCpu");

    public FitEnvironment ToFitEnvironment() => new(GpuDeviceId, FallbackToCpu, Warning, Info);

    public void Info(string message) => Send(message, warning: false);

    public void Warning(string message) => Send(message, warning: true);

    private void Send(string message, bool warning)
    {
        if (_env is null)
            return;
        using var channel = _env.Start("TrtMLNet");
        if (warning)
            channel.Warning(MessageSensitivity.None, message);
        else
            channel.Info(MessageSensitivity.None, message);
    }

    private T? ReadProperty<T>(string name)
    {
        var property = _env?.GetType().GetProperty(name, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance);
        return property?.GetValue(_env) is T value ? value : default;
    }
}
