using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using TrtMLNet;

namespace ImageClassification;

/// <summary>
/// The sample's core, Model Builder's steps in order: get labelled images, split them, train the
/// pipeline, evaluate it on the held-out images, save it, load it back (as any ML.NET application would,
/// and with TrtMLNet) and predict new images with a PredictionEngine.
/// </summary>
public static class ImageClassificationSample
{
    public const string ModelFileName = "model.zip";

    /// <summary>Runs every step and returns what it measured; <paramref name="log"/> gets a line per step as it ends.</summary>
    public static SampleResult Run(SampleOptions options, TextWriter? log = null)
    {
        log ??= TextWriter.Null;
        var modelFile = options.ModelFile ?? ResNet18.DefaultModelPath;
        if (!File.Exists(modelFile))
            throw new FileNotFoundException($"The ResNet-18 model '{modelFile}' is missing; it comes with the Microsoft.ML.DnnImageFeaturizer.ResNet18 package.", modelFile);
        Directory.CreateDirectory(options.OutputFolder);
        var timings = new List<(string Step, TimeSpan Took)>();
        T Step<T>(string step, Func<T> work, Func<T, FormattableString> done)
        {
            var clock = Stopwatch.StartNew();
            var result = work();
            timings.Add((step, clock.Elapsed));
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{step,-22}{clock.Elapsed.TotalSeconds,6:0.0} s  {done(result).ToString(CultureInfo.InvariantCulture)}"));
            return result;
        }

        var ml = new MLContext(seed: options.Seed);

        var (train, test, newImages) = Step("Images", () => Images(options), set =>
            $"{set.Train.Count} to train, {set.Test.Count} to test, {set.New.Count} new ones to predict");
        var trainData = ml.Data.LoadFromEnumerable(train.Select(ImageInput.From).ToList());
        var testData = ml.Data.LoadFromEnumerable(test.Select(ImageInput.From).ToList());

        var pipeline = TrainingPipeline.Create(ml, options, modelFile);
        using var model = Step("Train", () => pipeline.Fit(trainData), _ => $"ResNet-18 features of {train.Count} images, then L-BFGS");
        var featurizer = model.OfType<TensorRtTransformer>().Single();
        log.WriteLine($"{"",-32}ResNet-18 ran on {featurizer.BackendDescription}, batches of {featurizer.BatchSize}");

        var scored = model.Transform(testData);
        var metrics = Step("Evaluate", () => ml.MulticlassClassification.Evaluate(scored, nameof(ImageInput.Label)),
            m => $"{test.Count} test images, accuracy {m.MicroAccuracy:P1}");
        var classes = KeyValues(scored.Schema[nameof(ImageInput.Label)]);

        var modelPath = Path.Combine(options.OutputFolder, ModelFileName);
        Step("Save", () => { ml.Model.Save(model, trainData.Schema, modelPath); return modelPath; }, path => $"{path}");

        // ML.NET alone reads the file: the ApplyTensorRt stage comes back as an OnnxTransformer over the
        // same ONNX bytes, which scores one row at a time on the CPU (or MLContext.GpuDeviceId's GPU). It
        // takes the network's pixel tensor, not image paths: decoding the images is TrtMLNet's.
        using var mlNetModel = Step("Load (ML.NET)", () => (TransformerChain<ITransformer>)ml.Model.Load(modelPath, out _),
            m => $"stages: {string.Join(", ", StageNames(m))}");
        // TrtMLNet turns that stage back into ApplyTensorRt with its saved options (a third argument could
        // change them, e.g. the backend); the engine is rebuilt, or taken from the engine cache.
        using var tensorRtModel = Step("Load (TrtMLNet)", () => (TransformerChain<ITransformer>)ml.Model.LoadWithTensorRt(modelPath, out _),
            m => $"stages: {string.Join(", ", StageNames(m))}");
        var reloadedFeaturizer = tensorRtModel.OfType<TensorRtTransformer>().Single();

        var predictions = Step("Predict", () => Predict(ml, newImages, model, tensorRtModel),
            p => $"{p.Count} new images, each through the trained model and the one loaded back");

        return new SampleResult
        {
            Classes = classes,
            TrainImages = train.Count,
            TestImages = test.Count,
            Backend = featurizer.Backend,
            BackendDescription = featurizer.BackendDescription,
            BatchSize = featurizer.BatchSize,
            SkippedBackends = featurizer.SkippedBackends,
            Metrics = metrics,
            ModelPath = modelPath,
            MlNetLoadStages = StageNames(mlNetModel),
            TensorRtLoadStages = StageNames(tensorRtModel),
            ReloadedBackendDescription = reloadedFeaturizer.BackendDescription,
            Predictions = predictions,
            Timings = timings,
        };
    }

    /// <summary>
    /// The training and test images, and new ones to predict: freshly drawn shapes (another seed, so
    /// never seen in training), or for your own folder some of its held-out test images.
    /// </summary>
    private static (IReadOnlyList<LabelledImage> Train, IReadOnlyList<LabelledImage> Test, IReadOnlyList<LabelledImage> New) Images(SampleOptions options)
    {
        var images = options.ImageFolder is { } folder
            ? ImageSet.FromFolder(folder)
            : ShapeImages.Draw(Path.Combine(options.OutputFolder, "images"), options.Classes, options.ImagesPerClass, options.Seed);
        var (train, test) = ImageSet.Split(images, options.TestFraction, options.Seed);
        if (options.NewImages == 0)
            return (train, test, []);
        IReadOnlyList<LabelledImage> newImages;
        if (options.ImageFolder is null)
        {
            var perClass = (options.NewImages + options.Classes - 1) / options.Classes;
            newImages = ShapeImages.Draw(Path.Combine(options.OutputFolder, "new-images"), options.Classes, perClass, unchecked(options.Seed + 7919));
        }
        else
        {
            newImages = test;
        }
        return (train, test, RoundRobin(newImages).Take(options.NewImages).ToList());
    }

    /// <summary>One image of each class in turn, so a few new images show every class.</summary>
    private static IEnumerable<LabelledImage> RoundRobin(IReadOnlyList<LabelledImage> images) =>
        images.GroupBy(i => i.Label)
            .SelectMany(g => g.Select((image, position) => (image, position)))
            .OrderBy(p => p.position)
            .Select(p => p.image);

    private static List<PredictionComparison> Predict(MLContext ml, IReadOnlyList<LabelledImage> images,
        ITransformer trained, ITransformer tensorRtLoaded)
    {
        // A PredictionEngine scores one row per call: ApplyTensorRt runs it as a batch of one.
        using var trainedEngine = ml.Model.CreatePredictionEngine<ImageInput, ImagePrediction>(trained);
        using var tensorRtEngine = ml.Model.CreatePredictionEngine<ImageInput, ImagePrediction>(tensorRtLoaded);
        var comparisons = new List<PredictionComparison>();
        foreach (var image in images)
        {
            // No label: a new image has none, and the model does not need one to predict.
            var input = new ImageInput { ImagePath = image.Path };
            comparisons.Add(new PredictionComparison(image.Path, image.Label,
                Prediction.From(trainedEngine.Predict(input)),
                Prediction.From(tensorRtEngine.Predict(input))));
        }
        return comparisons;
    }

    /// <summary>Type names without the generic arity ("MulticlassPredictionTransformer", not "...`1").</summary>
    private static List<string> StageNames(IEnumerable<ITransformer> chain) =>
        chain.Select(t => t.GetType().Name.Split('`')[0]).ToList();

    private static List<string> KeyValues(DataViewSchema.Column column)
    {
        VBuffer<ReadOnlyMemory<char>> keys = default;
        column.GetKeyValues(ref keys);
        return keys.DenseValues().Select(k => k.ToString()).ToList();
    }
}
