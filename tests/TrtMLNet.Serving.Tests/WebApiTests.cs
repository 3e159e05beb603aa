using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.ML;
using TrtMLNet.Serving.Tests.Support;
using WebApi;

namespace TrtMLNet.Serving.Tests;

/// <summary>The web sample, started in memory with its two models made in a temporary folder.</summary>
public sealed class WebApiFixture : IAsyncLifetime
{
    public string Folder { get; } = Path.Combine(ServingModels.Folder, $"webapi-{Guid.NewGuid():N}");

    public WebApplicationFactory<Program> Factory { get; private set; } = null!;

    public ValueTask InitializeAsync()
    {
        Factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("Models:Folder", Folder);
            b.UseSetting("Serving:Tabular:MaxQueue", "64");
        });
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await Factory.DisposeAsync();
}

public sealed class WebApiTests(WebApiFixture web) : IClassFixture<WebApiFixture>
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private async Task<HttpClient> ReadyClient()
    {
        var client = web.Factory.CreateClient();
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while ((await client.GetAsync("/health/ready", Cancel)).StatusCode != HttpStatusCode.OK)
        {
            Assert.True(DateTime.UtcNow < deadline, "The web sample did not become ready in 120 s.");
            await Task.Delay(100, Cancel);
        }
        return client;
    }

    [Fact]
    public async Task Post_predict_answers_each_of_many_concurrent_clients_with_its_own_rows_prediction()
    {
        var client = await ReadyClient();
        var ml = new MLContext(1);
        var model = ml.Model.Load(Path.Combine(web.Folder, TabularModel.FileName), out var schema);
        var rows = ServingModels.Rows(64, seed: 11);   // MaxQueue is 64 here
        var expected = ServingModels.Expected(ml, model, schema, rows);

        var responses = await Task.WhenAll(rows.Select(async (row, i) =>
        {
            var response = await client.PostAsJsonAsync("/predict", row, Cancel);
            response.EnsureSuccessStatusCode();
            return (i, Output: await response.Content.ReadFromJsonAsync<TabularOutput>(Cancel));
        }));
        foreach (var (i, output) in responses)
            ServingModels.AssertClose(expected[i], output!.Score, $"client {i}");

        var baseline = await client.PostAsJsonAsync("/baseline/predict", rows[0], Cancel);
        ServingModels.AssertClose(expected[0], (await baseline.Content.ReadFromJsonAsync<TabularOutput>(Cancel))!.Score, "the baseline endpoint");
    }

    [Fact]
    public async Task Post_predict_image_gives_the_same_features_as_a_PredictionEngine()
    {
        var client = await ReadyClient();
        var png = ImageFiles.GradientPng(7);
        var response = await client.PostAsJsonAsync("/predict/image", new ImageRequest { ImageSource = png }, Cancel);
        response.EnsureSuccessStatusCode();
        var output = await response.Content.ReadFromJsonAsync<ImageOutput>(Cancel);

        var ml = new MLContext(1);
        var model = ml.Model.Load(Path.Combine(web.Folder, ImageModel.FileName), out var schema);
        var engine = ml.Model.CreatePredictionEngine<ImageInput, ImageOutput>(model, schema);
        var expected = engine.Predict(ImageFiles.ToInput(png)).Features;
        Assert.Equal(512, output!.Features.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - output.Features[i]) <= 1e-3 + 1e-3 * Math.Abs(expected[i]), $"feature {i}: {expected[i]} against {output.Features[i]}");
    }

    [Fact]
    public async Task Bad_requests_get_4xx_answers_that_say_why()
    {
        var client = await ReadyClient();
        var notAnImage = await client.PostAsJsonAsync("/predict/image", new ImageRequest { ImageSource = [1, 2, 3] }, Cancel);
        Assert.Equal(HttpStatusCode.BadRequest, notAnImage.StatusCode);
        Assert.Contains("not an image", await notAnImage.Content.ReadAsStringAsync(Cancel));

        var shortRow = await client.PostAsJsonAsync("/predict", new TabularInput { Features = [1, 2, 3] }, Cancel);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, shortRow.StatusCode);
        Assert.Contains("this request's row", await shortRow.Content.ReadAsStringAsync(Cancel));
    }

    [Fact]
    public async Task A_full_queue_answers_429()
    {
        var client = await ReadyClient();
        var rows = ServingModels.Rows(1000, seed: 12);
        // MaxQueue is 64 here: a thousand requests at once overflow it, and the overflow is refused, not queued.
        var statuses = await Task.WhenAll(rows.Select(async row => (await client.PostAsJsonAsync("/predict", row, Cancel)).StatusCode));
        Assert.All(statuses, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, $"unexpected {s}"));
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        Assert.Contains(HttpStatusCode.OK, statuses);
    }
}
