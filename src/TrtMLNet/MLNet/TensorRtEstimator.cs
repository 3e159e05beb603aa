using Microsoft.ML;
using Microsoft.ML.Data;
using TrtMLNet.Backends;
using TrtMLNet.Scoring;

namespace TrtMLNet;

/// <summary>
/// The <c>ApplyTensorRt</c> estimator. It reads and checks the model when it is made, so a missing
/// file, bytes that are not ONNX or an output the model lacks fail at once; fitting binds the columns,
/// picks the backend and builds (or loads) the engine.
/// </summary>
public sealed class TensorRtEstimator : IEstimator<TensorRtTransformer>
{
    private readonly HostEnvironment _env;
    private readonly TensorRtOptions _options;
    private readonly ModelSource _model;

    internal TensorRtEstimator(HostEnvironment env, TensorRtOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (string.IsNullOrWhiteSpace(options.ModelFile))
            throw new ArgumentException("TensorRtOptions.ModelFile must name an ONNX model.", nameof(options));
        _env = env;
        _options = options.Clone();
        _model = ModelSource.Load(options.ModelFile!);
        var onnx = _model.Onnx;
        foreach (var column in _options.InputColumns ?? [])
            if (!onnx.Inputs.Any(i => i.Name == column))
                throw new ArgumentException($"Input column '{column}' is not an input of {_model.Name}: its inputs are {string.Join(", ", onnx.Inputs)}. Input columns are " +
                    $"named after the model's input tensors, as in ApplyOnnxModel.");
        ModelFitter.SelectOutputs(_options, onnx.Outputs, _model.Name);
    }

    public TensorRtTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return TensorRtTransformer.Create(_env, _options, _model, name => input.Schema.GetColumnOrNull(name)?.Type);
    }

    /// <summary>
    /// The input columns and one vector column per model output. Checks what a SchemaShape can tell:
    /// that every input column exists with the model's element type.
    /// </summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        var onnx = _model.Onnx;
        var inputColumns = _options.InputColumns is { Length: > 0 } given ? given : onnx.Inputs.Select(i => i.Name).ToArray();
        foreach (var name in inputColumns)
        {
            var tensor = onnx.Inputs.First(i => i.Name == name);
            var image = _options.ImageInputs?.TryGetValue(name, out var found) == true ? found : null;
            var columnName = image?.Column ?? name;
            var column = inputSchema.FirstOrDefault(c => c.Name == columnName);
            if (column.Name is null)
                throw new ArgumentException($"Input column '{columnName}' was not found in the data; {_model.Name} needs it for its input {tensor}.");
            if (image is not null)
            {
                if (!column.ItemType.Equals(TextDataViewType.Instance) && !column.ItemType.Equals(NumberDataViewType.Byte))
                    throw new ArgumentException($"Image column '{columnName}' holds {column.ItemType.RawType.Name} values; it must hold image paths or encoded image bytes.");
                continue;
            }
            if (tensor.ElementType == TensorElementType.Unsupported || !column.ItemType.Equals(tensor.ElementType.ToDataViewType()))
                throw new ArgumentException($"Input column '{name}' holds {column.ItemType.RawType.Name} values, but {_model.Name}'s input {tensor} takes {tensor.TypeName}.");
        }
        var columns = inputSchema.ToDictionary(c => c.Name);
        foreach (var output in ModelFitter.SelectOutputs(_options, onnx.Outputs, _model.Name))
            columns[output.Name] = SchemaShapes.Vector(output.Name, output.ElementType.ToDataViewType());
        return new SchemaShape(columns.Values);
    }
}
