using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using ImageClassification;
using TrtMLNet;

var output = new Option<string>("--output", "-o")
{
    Description = "Folder for the drawn images, the new images and the saved model (model.zip).",
    DefaultValueFactory = _ => Path.Combine("output", "image-classification"),
};
var images = new Option<string>("--images") { Description = "Train on your own images instead: a folder with a subfolder of images per class, named after the class." };
var classes = new Option<int>("--classes")
{
    Description = $"Classes to draw, 2 to {ShapeImages.Classes.Count}: the first of {string.Join(", ", ShapeImages.Classes)}.",
    DefaultValueFactory = _ => 4,
};
var imagesPerClass = new Option<int>("--images-per-class") { Description = "Images drawn per class, to train and test.", DefaultValueFactory = _ => 40 };
var testFraction = new Option<double>("--test-fraction") { Description = "Share of each class held out to evaluate.", DefaultValueFactory = _ => 0.25 };
var newImages = new Option<int>("--new-images") { Description = "New images to predict with a PredictionEngine after loading the saved model.", DefaultValueFactory = _ => 8 };
var seed = new Option<int>("--seed") { Description = "Seed of the drawing, the split and ML.NET.", DefaultValueFactory = _ => 1 };
var backend = new Option<TensorRtBackend>("--backend", "-b") { Description = "Which engine runs ResNet-18 (Auto: the fastest one present).", DefaultValueFactory = _ => TensorRtBackend.Auto };
var device = new Option<int?>("--device", "-d") { Description = "The GPU to run on (default: 0)." };
var cpuFallback = new Option<bool>("--cpu-fallback") { Description = "Run on the CPU when the --backend asked for cannot run (Auto does so anyway)." };
var batchSize = new Option<int>("--batch-size") { Description = "Images per ResNet-18 run.", DefaultValueFactory = _ => 16 };
var model = new Option<string>("--model") { Description = "The ResNet-18 ONNX model (default: the one of the Microsoft.ML.DnnImageFeaturizer.ResNet18 package)." };
var verbose = new Option<bool>("--verbose", "-v") { Description = "Give TrtMLNet's full reasons for skipping a backend and, on errors, the stack trace." };

classes.Validators.Add(r => Check(r, classes, v => v >= 2 && v <= ShapeImages.Classes.Count, $"2 to {ShapeImages.Classes.Count}"));
imagesPerClass.Validators.Add(r => Check(r, imagesPerClass, v => v >= 2, "at least 2 (one to train, one to test)"));
testFraction.Validators.Add(r => Check(r, testFraction, v => v is > 0 and < 1, "between 0 and 1"));
newImages.Validators.Add(r => Check(r, newImages, v => v >= 0, "0 or more"));
batchSize.Validators.Add(r => Check(r, batchSize, v => v >= 1, "at least 1"));
device.Validators.Add(r => Check(r, device, v => v is null or >= 0, "0 or more"));

var root = new RootCommand(
    "Transfer learning as Model Builder does it, with TrtMLNet: pretrained ResNet-18 features through ApplyTensorRt, " +
    "an L-BFGS classifier on top, evaluated, saved, loaded back and used to predict new images. " +
    "With no arguments it draws its own labelled images of shapes.")
{
    output, images, classes, imagesPerClass, testFraction, newImages, seed, backend, device, cpuFallback, batchSize, model, verbose,
};
root.Validators.Add(r =>
{
    // --images brings its own classes and counts; the drawing options would be silently ignored.
    if (r.GetResult(images) is not null && new Option[] { classes, imagesPerClass }.Select(r.GetResult).Any(o => o is { Implicit: false }))
        r.AddError("--classes and --images-per-class size the drawn image set; leave them out with --images.");
});

root.SetAction(parse =>
{
    var options = new SampleOptions
    {
        OutputFolder = parse.GetValue(output)!,
        ImageFolder = parse.GetValue(images),
        Classes = parse.GetValue(classes),
        ImagesPerClass = parse.GetValue(imagesPerClass),
        TestFraction = parse.GetValue(testFraction),
        NewImages = parse.GetValue(newImages),
        Seed = parse.GetValue(seed),
        Backend = parse.GetValue(backend),
        DeviceId = parse.GetValue(device),
        // Left out, TrtMLNet decides: Auto may end on the CPU, an explicit GPU backend may not.
        FallbackToCpu = parse.GetValue(cpuFallback) ? true : null,
        BatchSize = parse.GetValue(batchSize),
        ModelFile = parse.GetValue(model),
    };
    try
    {
        var result = ImageClassificationSample.Run(options, Console.Out);
        Console.Write(ConsoleReport.Format(result, options, parse.GetValue(verbose)));
        return 0;
    }
    catch (InvalidOperationException e) when (options.FallbackToCpu is null && options.Backend is not (TensorRtBackend.Auto or TensorRtBackend.OnnxRuntimeCpu))
    {
        // TrtMLNet names its own option; say what it is on this command line.
        Console.Error.WriteLine($"{Describe(e)} (On this command line: --cpu-fallback.)");
        return 1;
    }
    catch (Exception e)
    {
        Console.Error.WriteLine(parse.GetValue(verbose) ? e.ToString() : Describe(e));
        return 1;
    }
});

var parsed = root.Parse(args);
if (parsed.Action is ParseErrorAction parseError)
    parseError.ShowHelp = false;
var exitCode = parsed.Invoke();
if (parsed.Errors.Count > 0)
    Console.Error.WriteLine("Run with --help for the options.");
return exitCode;

static void Check<T>(OptionResult result, Option<T> option, Func<T, bool> valid, string expected)
{
    if (result.GetValueOrDefault<T>() is var value && !valid(value))
        result.AddError($"{option.Name} must be {expected}; it is {value}.");
}

// TrtMLNet's and ML.NET's errors often wrap the message that says what went wrong; show the chain once.
static string Describe(Exception e)
{
    var messages = new List<string>();
    for (var current = e; current is not null; current = current.InnerException)
        if (!messages.Any(m => m.Contains(current.Message, StringComparison.Ordinal)))
            messages.Add(current.Message);
    return string.Join(" <- ", messages);
}
