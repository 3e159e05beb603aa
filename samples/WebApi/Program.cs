using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.ObjectPool;
using Microsoft.ML;
using Microsoft.ML.Data;
using TrtMLNet.Serving;
using TrtMLNet.Serving.Baseline;
using WebApi;

// Model Builder's Web API, served through a batching pool: concurrent requests become batches.
var builder = WebApplication.CreateBuilder(args);
var folder = builder.Configuration["Models:Folder"] ?? Path.Combine(builder.Environment.ContentRootPath, "Models");
var imageSettings = builder.Configuration.GetSection("Models:Image").Get<ImageModelSettings>() ?? new ImageModelSettings();
using (var factory = LoggerFactory.Create(l => l.AddConsole()))
    SampleModels.EnsureCreated(folder, imageSettings, factory.CreateLogger("WebApi"));
var tabularFile = Path.Combine(folder, TabularModel.FileName);
var imageFile = Path.Combine(folder, ImageModel.FileName);

// PredictionEnginePool's shape: AddPredictionEnginePool<TIn, TOut>().FromFile(modelName, filePath, watchForChanges).
builder.Services.AddPredictionPool<TabularInput, TabularOutput>(o => builder.Configuration.GetSection("Serving:Tabular").Bind(o))
    .FromFile(modelName: "tabular", filePath: tabularFile, watchForChanges: true);
builder.Services.AddPredictionPool<ImageInput, ImageOutput>(o =>
    {
        o.MaxBatchSize = 16;
        builder.Configuration.GetSection("Serving:Image").Bind(o);
    })
    .FromFile(modelName: "image", filePath: imageFile, watchForChanges: true);
builder.Services.AddHealthChecks()
    .AddPredictionPoolCheck<TabularInput, TabularOutput>("tabular")
    .AddPredictionPoolCheck<ImageInput, ImageOutput>("image");

// The baseline: what PredictionEnginePool does (an ObjectPool of PredictionEngines over the model loaded as
// ML.NET loads it), for the load test to compare against.
// On a GPU machine (Models:Image:Device), the baseline's ML.NET OnnxTransformer runs on that GPU too.
var ml = new MLContext { GpuDeviceId = imageSettings.Device, FallbackToCpu = true };
builder.Services.AddSingleton(_ => BaselinePool<TabularInput, TabularOutput>(ml, tabularFile));
builder.Services.AddSingleton(_ => BaselinePool<ImageInput, ImageOutput>(ml, imageFile));

var app = builder.Build();
var api = app.MapGroup("").AddEndpointFilter<PoolErrors>();

api.MapPost("/predict", (TabularInput input, PredictionPools<TabularInput, TabularOutput> pools, CancellationToken cancel) =>
    pools.PredictAsync("tabular", input, cancel));

api.MapPost("/predict/image", (ImageRequest request, PredictionPools<ImageInput, ImageOutput> pools, CancellationToken cancel) =>
    pools.PredictAsync("image", ImageFiles.ToInput(request.ImageSource), cancel));

api.MapPost("/baseline/predict", (TabularInput input, ObjectPool<PredictionEngine<TabularInput, TabularOutput>> engines) =>
    PredictOne(engines, input));

api.MapPost("/baseline/predict/image", (ImageRequest request, ObjectPool<PredictionEngine<ImageInput, ImageOutput>> engines) =>
    PredictOne(engines, ImageFiles.ToInput(request.ImageSource)));

// Readiness: every pool has run its warm-up batch. Liveness: the process answers.
app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") });
app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });

app.Run();

static TOut PredictOne<TIn, TOut>(ObjectPool<PredictionEngine<TIn, TOut>> engines, TIn input) where TIn : class where TOut : class, new()
{
    var engine = engines.Get();
    try
    {
        return engine.Predict(input);
    }
    finally
    {
        engines.Return(engine);
    }
}

static ObjectPool<PredictionEngine<TIn, TOut>> BaselinePool<TIn, TOut>(MLContext ml, string file) where TIn : class where TOut : class, new()
{
    var model = ml.Model.Load(file, out var schema);
    return PredictionEnginePolicy<TIn, TOut>.CreatePool(ml, model, schema);
}

/// <summary>For WebApplicationFactory in the tests.</summary>
public partial class Program;
