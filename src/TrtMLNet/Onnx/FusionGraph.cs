using System.Runtime.InteropServices;

namespace TrtMLNet.Onnx;

/// <summary>
/// A model's main graph as the fusions (<see cref="TransformerFusions"/>) read and edit it: who produces
/// each value and how many nodes read it, kept right as nodes are replaced, then cleaned up once at the
/// end. Values read by a subgraph (If, Loop) count as read, so nothing they need is ever removed.
/// </summary>
internal sealed class FusionGraph
{
    public const string Microsoft = "com.microsoft";
    private readonly ModelProto _model;
    private readonly Dictionary<string, NodeProto> _producer = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _readers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TensorProto> _initializers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _retyped = new(StringComparer.Ordinal);
    private readonly HashSet<string> _graphOutputs;

    public FusionGraph(ModelProto model)
    {
        _model = model;
        Graph = model.Graph ?? throw new InvalidDataException("The ONNX model has no graph.");
        _graphOutputs = Graph.Outputs.Select(o => o.Name ?? "").ToHashSet(StringComparer.Ordinal);
        foreach (var tensor in Graph.Initializers)
            _initializers[tensor.Name ?? ""] = tensor;
        foreach (var node in Graph.Nodes)
        {
            foreach (var output in node.Outputs)
                _producer[output] = node;
            foreach (var input in node.Inputs.Concat(GraphWalk.OuterReferences(node)))
                _readers[input] = _readers.GetValueOrDefault(input) + 1;
        }
    }

    public GraphProto Graph { get; }

    public long? Opset => _model.OpsetVersion("");

    public NodeProto? ProducerOf(string name) => _producer.GetValueOrDefault(name);

    /// <summary>The one node reading <paramref name="name"/>; null when none, several, or the graph's output does.</summary>
    public NodeProto? OnlyReader(string name)
    {
        if (_readers.GetValueOrDefault(name) != 1 || _graphOutputs.Contains(name))
            return null;
        return Graph.Nodes.FirstOrDefault(n => n.Inputs.Contains(name));
    }

    /// <summary>Whether every output of <paramref name="node"/> is read by exactly one node and is not a graph output.</summary>
    public bool ReadOnce(NodeProto node) => node.Outputs.All(o => !_graphOutputs.Contains(o) && _readers.GetValueOrDefault(o) == 1);

    /// <summary>Whether some node or the graph's outputs read <paramref name="name"/>.</summary>
    public bool IsRead(string name) => _readers.GetValueOrDefault(name) > 0 || _graphOutputs.Contains(name);

    /// <summary>
    /// The initializer <paramref name="name"/> is, directly or through Identity nodes: exporters share equal
    /// tensors (a fresh model's zero biases) through Identity.
    /// </summary>
    public TensorProto? Initializer(string name) =>
        _initializers.GetValueOrDefault(name) ?? (ProducerOf(name) is { } node && IsOp(node, "Identity") ? Initializer(node.Inputs[0]) : null);

    /// <summary>A float scalar constant (an initializer or a Constant node, float or double); null for anything else.</summary>
    public float? Scalar(string name)
    {
        var tensor = Initializer(name) ?? ConstantTensor(name);
        if (tensor is null || tensor.ElementCount != 1)
            return null;
        return tensor.ElementType switch
        {
            OnnxDataType.Float when tensor.RawData is { } raw => MemoryMarshal.Read<float>(raw.Span),
            OnnxDataType.Float when tensor.FloatData.Count == 1 => tensor.FloatData[0],
            OnnxDataType.Double when tensor.RawData is { } raw => (float)MemoryMarshal.Read<double>(raw.Span),
            OnnxDataType.Double when tensor.DoubleData.Count == 1 => (float)tensor.DoubleData[0],
            _ => null,
        };
    }

    /// <summary>An int64 constant's values (an initializer or a Constant node); null for anything else.</summary>
    public long[]? Int64s(string name)
    {
        var tensor = Initializer(name) ?? ConstantTensor(name);
        if (tensor is null || tensor.ElementType != OnnxDataType.Int64)
            return null;
        return tensor.RawData is { } raw ? MemoryMarshal.Cast<byte, long>(raw.Span).ToArray() : tensor.Int64Data.ToArray();
    }

    /// <summary>Whether <paramref name="value"/> is computed from <paramref name="source"/>, looking at most <paramref name="limit"/> nodes up.</summary>
    public bool DerivesFrom(string value, string source, int limit = 1024)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal) { value };
        var pending = new Queue<string>([value]);
        while (pending.TryDequeue(out var next) && seen.Count <= limit)
        {
            if (next == source)
                return true;
            foreach (var input in ProducerOf(next)?.Inputs ?? [])
            {
                if (input.Length > 0 && seen.Add(input))
                    pending.Enqueue(input);
            }
        }
        return false;
    }

    /// <summary>An int64 initializer the fusions add, made once per model under <paramref name="name"/>.</summary>
    public string SharedInitializer(string name, long[] values)
    {
        if (!_initializers.ContainsKey(name))
        {
            var tensor = new TensorProto { Name = name, DataType = (int)OnnxDataType.Int64 };
            tensor.Dims.Add(values.Length);
            tensor.Int64Data.AddRange(values);
            Graph.Initializers.Add(tensor);
            _initializers[name] = tensor;
        }
        return name;
    }

    /// <summary>
    /// Puts <paramref name="added"/> where <paramref name="anchor"/> is (its inputs are produced by then) and
    /// removes <paramref name="removed"/>. <paramref name="retyped"/>: values the added nodes produce under an
    /// old name with another shape, whose value_info is dropped.
    /// </summary>
    public void Replace(NodeProto anchor, IReadOnlyList<NodeProto> added, IEnumerable<NodeProto> removed, params string[] retyped)
    {
        Graph.Nodes.InsertRange(Graph.Nodes.IndexOf(anchor), added);
        foreach (var node in added)
        {
            foreach (var output in node.Outputs)
                _producer[output] = node;
            foreach (var input in node.Inputs)
                _readers[input] = _readers.GetValueOrDefault(input) + 1;
        }
        foreach (var node in removed)
        {
            Graph.Nodes.Remove(node);
            foreach (var output in node.Outputs)
            {
                // An added node may produce the same name (the fused attention writes the merged heads' value).
                if (_producer.GetValueOrDefault(output) == node)
                    _producer.Remove(output);
            }
            foreach (var input in node.Inputs)
                _readers[input] = _readers.GetValueOrDefault(input) - 1;
        }
        _retyped.UnionWith(retyped);
    }

    /// <summary>Drops what only the replaced nodes read (their shape arithmetic, their constants) and declares the com.microsoft domain.</summary>
    public void Finish()
    {
        for (var removed = true; removed;)
        {
            removed = false;
            for (var i = Graph.Nodes.Count - 1; i >= 0; i--)
            {
                var node = Graph.Nodes[i];
                if (node.Outputs.Any(o => o.Length > 0 && IsRead(o)))
                    continue;
                Graph.Nodes.RemoveAt(i);
                foreach (var input in node.Inputs)
                    _readers[input] = _readers.GetValueOrDefault(input) - 1;
                removed = true;
            }
        }
        // An initializer also listed as a graph input is that input's default: removing it would make the input required.
        var inputs = Graph.Inputs.Select(i => i.Name ?? "").ToHashSet(StringComparer.Ordinal);
        Graph.Initializers.RemoveAll(t => !IsRead(t.Name ?? "") && !inputs.Contains(t.Name ?? ""));
        var values = Graph.Nodes.SelectMany(n => n.Outputs).Concat(inputs).Concat(Graph.Initializers.Select(t => t.Name ?? "")).ToHashSet(StringComparer.Ordinal);
        Graph.ValueInfo.RemoveAll(v => !values.Contains(v.Name ?? "") || _retyped.Contains(v.Name ?? ""));
        if (!_model.OpsetImport.Any(o => o.Domain == Microsoft))
            _model.OpsetImport.Add(new OperatorSetIdProto { Domain = Microsoft, Version = 1 });
    }

    public static NodeProto Node(string op, string output, string[] inputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { Name = $"{output}/TrtMLNet.{op}", OpType = op };
        node.Inputs.AddRange(inputs);
        node.Outputs.Add(output);
        node.Attributes.AddRange(attributes);
        return node;
    }

    /// <summary>A node of ONNX Runtime's contrib ops (the com.microsoft domain, which <see cref="Finish"/> declares).</summary>
    public static NodeProto MicrosoftNode(string op, string output, string[] inputs, params AttributeProto[] attributes)
    {
        var node = Node(op, output, inputs, attributes);
        node.Domain = Microsoft;
        return node;
    }

    public static bool IsOp(NodeProto? node, string op) => node is not null && node.OpType == op && ElementTypeRules.IsDefaultDomain(node.Domain);

    public static long Int(NodeProto node, string name, long fallback) => node.Attribute(name)?.I ?? fallback;

    private TensorProto? ConstantTensor(string name) =>
        ProducerOf(name) is { } node && IsOp(node, "Constant") ? node.Attribute("value")?.T : null;
}
