using Microsoft.Extensions.Logging;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace TrtMLNet.Serving;

/// <summary>
/// Loads ML.NET model files for a pool and, when asked, reloads them when they change (as
/// <c>PredictionEnginePool</c>'s <c>watchForChanges</c> does). A change is loaded once the file has been
/// quiet for <see cref="PredictionPoolOptions.ReloadDebounce"/>; a file that does not load (half written,
/// corrupt, a model of other columns) leaves the current model serving and is logged, and the next change
/// is tried again.
/// </summary>
internal sealed class ModelFileWatcher : IDisposable
{
    private readonly string _path;
    private readonly Func<string, CancellationToken, Task> _reload;
    private readonly FileSystemWatcher _watcher;
    private readonly ITimer _debounce;
    private readonly TimeSpan _quiet;
    private readonly CancellationTokenSource _stopping = new();
    private int _running;
    private int _changedWhileRunning;

    private ModelFileWatcher(string path, TimeSpan quiet, TimeProvider time, Func<string, CancellationToken, Task> reload)
    {
        _path = path;
        _quiet = quiet;
        _reload = reload;
        _debounce = time.CreateTimer(_ => _ = ReloadAsync(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _watcher = new FileSystemWatcher(Path.GetDirectoryName(path)!, Path.GetFileName(path))
        {
            NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.FileName | NotifyFilters.CreationTime,
        };
        _watcher.Changed += (_, _) => Changed();
        _watcher.Created += (_, _) => Changed();
        // A file replaced by rename (write elsewhere, then move over) arrives as Renamed to our name.
        _watcher.Renamed += (_, e) => { if (string.Equals(e.FullPath, _path, StringComparison.Ordinal)) Changed(); };
        _watcher.EnableRaisingEvents = true;
    }

    /// <summary>
    /// Loads a model file the TrtMLNet way: ApplyTensorRt stages come back batched (on the GPU where there
    /// is one); other stages as ML.NET loads them. The file is copied first, so a writer changing it
    /// while it is read cannot mix two versions.
    /// </summary>
    public static (ITransformer Model, DataViewSchema InputSchema) Load(MLContext ml, string path, Action<TensorRtOptions>? configure)
    {
        var snapshot = Path.Combine(Path.GetTempPath(), $"trtmlnet-model-{Guid.NewGuid():N}.zip");
        File.Copy(path, snapshot);
        try
        {
            var model = ml.Model.LoadWithTensorRt(snapshot, out var schema, configure);
            return (model, schema);
        }
        finally
        {
            File.Delete(snapshot);
        }
    }

    /// <summary>Watches <paramref name="path"/> and replaces <paramref name="pool"/>'s model when it changes.</summary>
    public static ModelFileWatcher Start<TIn, TOut>(PredictionPool<TIn, TOut> pool, MLContext ml, string path, Action<TensorRtOptions>? configure)
        where TIn : class where TOut : class, new()
    {
        var full = Path.GetFullPath(path);
        return new ModelFileWatcher(full, pool.Options.ReloadDebounce, pool.Options.TimeProvider, async (file, token) =>
        {
            ITransformer model;
            DataViewSchema schema;
            try
            {
                (model, schema) = Load(ml, file, configure);
            }
            catch (Exception error)
            {
                pool.ReloadFailed($"'{file}'", error);
                return;
            }
            try
            {
                await pool.ReplaceModel(model, schema, ownsModel: true, $"'{file}'", token).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // ReplaceModelAsync logged why, kept the old model serving and disposed the new one.
            }
        });
    }

    private void Changed()
    {
        if (_stopping.IsCancellationRequested)
            return;
        Interlocked.Exchange(ref _changedWhileRunning, 1);
        // Every event pushes the load back: it runs once the file has been quiet for the debounce time.
        _debounce.Change(_quiet, Timeout.InfiniteTimeSpan);
    }

    private async Task ReloadAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            // One reload at a time; a debounced change that arrives meanwhile is taken by the loop below.
            if (Interlocked.Exchange(ref _running, 1) != 0)
                return;
            try
            {
                while (Interlocked.Exchange(ref _changedWhileRunning, 0) == 1 && !_stopping.IsCancellationRequested && File.Exists(_path))
                    await _reload(_path, _stopping.Token).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // _reload reports its own failures; nothing may escape a timer callback.
            }
            finally
            {
                Volatile.Write(ref _running, 0);
            }
            if (Volatile.Read(ref _changedWhileRunning) == 0)
                return;
        }
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _watcher.Dispose();
        _debounce.Dispose();
    }
}
