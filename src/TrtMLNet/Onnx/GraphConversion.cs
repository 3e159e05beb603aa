namespace TrtMLNet.Onnx;

/// <summary>
/// Rewrites a model's main graph from float32 to a reduced type, in one pass over its nodes in
/// topological order. The rules, after onnxconverter-common's convert_float_to_float16(keep_io_types=True)
/// and ONNX Runtime's transformers/float16.py, but driven by the element type of every value (from
/// <see cref="TypeInference"/>) rather than by ONNX shape inference:
/// <list type="bullet">
/// <item>a node that is not blocked computes in the reduced type: each float32 value it reads is given
/// to it in the reduced type (a Cast is put in front where the value is not), apart from inputs that
/// stay float32 by the op's type constraints (<see cref="ReducedTypeSupport"/>); EyeLike and
/// SequenceEmpty of float32 produce the reduced type instead;</item>
/// <item>a node whose op does not take the reduced type at the model's opset (<see cref="ReducedTypeSupport"/>)
/// is blocked, as is one that reads a weight or constant beyond the reduced type's range, and those the
/// options name;</item>
/// <item>a blocked node computes in float32: every float32 value it reads is given to it in float32,
/// its subgraphs included, and its outputs keep their types (consumers that want the reduced type get a Cast);</item>
/// <item>an initializer, a Constant/ConstantOfShape value or a Cast(to=FLOAT) is converted (retargeted)
/// when at least one reader wants the reduced type, and stays float32 when all readers want float32;</item>
/// <item>with KeepIoTypes, float32 graph inputs and outputs stay float32: inputs are cast where they are
/// read, and an output computed in the reduced type is renamed and cast back to its own name.</item>
/// </list>
/// Subgraphs are never converted: a node with one is blocked. Float64 and integer values are untouched.
/// </summary>
internal sealed class GraphConversion
{
    private readonly GraphProto _graph;
    private readonly PrecisionRewriteOptions _options;
    private readonly OnnxDataType _target;
    private readonly TypeInference _inference;
    private readonly Dictionary<string, OnnxDataType> _original;
    private readonly Dictionary<string, OnnxDataType> _current = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Value, OnnxDataType Type), string> _casts = [];
    private readonly Dictionary<string, string> _renamedOutputs = new(StringComparer.Ordinal);
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly HashSet<string> _keptOutputs;
    private readonly HashSet<string> _wantedReduced = new(StringComparer.Ordinal);
    private readonly HashSet<string> _notTensors;
    private readonly long? _opset;
    private readonly Dictionary<NodeProto, (bool Blocked, IReadOnlySet<int> Float32Inputs)> _plans = new(ReferenceEqualityComparer.Instance);
    private readonly PrecisionRewriteReport _report;
    private int _otherChanges;

    public GraphConversion(ModelProto model, PrecisionRewriteOptions options)
    {
        _graph = model.Graph ?? throw new InvalidDataException("The ONNX model has no graph.");
        _options = options;
        _report = new PrecisionRewriteReport(options.Target);
        _target = options.Target.DataType();
        _inference = new TypeInference(model.Functions);
        _opset = model.OpsetVersion("");
        _original = _inference.InferGraph(_graph);
        GraphWalk.CollectNames(_graph, _names);
        _keptOutputs = options.KeepIoTypes
            ? new(_graph.Outputs.Where(o => o.ElementType == OnnxDataType.Float).Select(o => o.Name ?? ""), StringComparer.Ordinal)
            : [];
        _notTensors = new(_graph.Inputs.Concat(_graph.ValueInfo).Concat(_graph.Outputs).Where(v => v.Type is { IsTensor: false }).Select(v => v.Name ?? ""),
            StringComparer.Ordinal);
    }

    public PrecisionRewriteReport Run()
    {
        if (!_original.ContainsValue(OnnxDataType.Float))
            return Report();
        var order = GraphWalk.TopologicalOrder(_graph);
        FindValuesOutOfRange(order);
        FindValuesWantedReduced(order);
        ConvertInitializers();
        SetInputTypes();
        var nodes = new List<NodeProto>(order.Count);
        foreach (var node in order)
            ConvertNode(node, nodes);
        _graph.Nodes.Clear();
        _graph.Nodes.AddRange(nodes);
        SetOutputAndValueInfoTypes();
        return Report();
    }

    private OnnxDataType Original(string name) => _original.GetValueOrDefault(name);

    private OnnxDataType Current(string name) => _current.TryGetValue(name, out var type) ? type : Original(name);

    private bool Blocked(NodeProto node) => Plan(node).Blocked;

    /// <summary>Whether a node stays float32 (options, or an op that does not take the reduced type at this opset), and which of its inputs stay float32 if not.</summary>
    private (bool Blocked, IReadOnlySet<int> Float32Inputs) Plan(NodeProto node)
    {
        if (_plans.TryGetValue(node, out var plan))
            return plan;
        var verdict = ElementTypeRules.IsDefaultDomain(node.Domain) ? ReducedTypeSupport.For(node, _opset, _options.Target) : ReducedTypeSupport.Verdict.Accepts;
        // bfloat16 kernels of other domains' ops (com.microsoft) are not known here: they stay float32.
        var blocked = _options.IsBlocked(node) || verdict.Block || (_options.Target == ReducedPrecision.BFloat16 && !ElementTypeRules.IsDefaultDomain(node.Domain));
        blocked |= Enumerable.Range(0, node.Inputs.Count).Any(i => _report.OutOfRange.Contains(node.Inputs[i])
            && !verdict.Float32Inputs.Contains(i) && !PrecisionRewriteOptions.InputStaysFloat32(node, i) && !PrecisionRewriteOptions.InputTakesAnyType(node, i));
        return _plans[node] = (blocked, verdict.Float32Inputs);
    }

    /// <summary>The type a node wants a float32 value in at input <paramref name="input"/>; Undefined when any type will do.</summary>
    private OnnxDataType Wanted(NodeProto node, int input)
    {
        var (blocked, float32Inputs) = Plan(node);
        if (blocked || float32Inputs.Contains(input) || PrecisionRewriteOptions.InputStaysFloat32(node, input))
            return OnnxDataType.Float;
        return PrecisionRewriteOptions.InputTakesAnyType(node, input) ? OnnxDataType.Undefined : _target;
    }

    /// <summary>
    /// Weights and constants with values beyond the reduced type's range (a BatchNormalization variance
    /// of 72,000 in ML.NET's ResNet-18, say): clamping them would change the result, so they stay float32
    /// and so do the nodes that read them.
    /// </summary>
    private void FindValuesOutOfRange(List<NodeProto> order)
    {
        foreach (var initializer in _graph.Initializers.Where(i => i.ElementType == OnnxDataType.Float))
        {
            if (ReducedFloat.HasValuesOutOfRange(initializer, _options.Target))
                _report.OutOfRange.Add(initializer.Name ?? "");
        }
        foreach (var node in order.Where(ConstantNodes.IsConstant))
        {
            if (ConstantNodes.FloatValue(node) is { } value && ReducedFloat.HasValuesOutOfRange(value, _options.Target))
                _report.OutOfRange.UnionWith(node.Outputs);
        }
    }

    /// <summary>The float32 values at least one reader wants in the reduced type: those worth converting at their source.</summary>
    private void FindValuesWantedReduced(List<NodeProto> order)
    {
        foreach (var node in order)
        {
            for (var i = 0; i < node.Inputs.Count; i++)
            {
                var name = node.Inputs[i];
                if (Original(name) == OnnxDataType.Float && Wanted(node, i) == _target)
                    _wantedReduced.Add(name);
            }
        }
        if (!_options.KeepIoTypes)
            _wantedReduced.UnionWith(_graph.Outputs.Where(o => o.ElementType == OnnxDataType.Float).Select(o => o.Name ?? ""));
    }

    private bool ConvertAtSource(string name) => _wantedReduced.Contains(name) && !_keptOutputs.Contains(name);

    private void ConvertInitializers()
    {
        foreach (var initializer in _graph.Initializers.Where(i => i.ElementType == OnnxDataType.Float))
        {
            var name = initializer.Name ?? "";
            if (!ConvertAtSource(name))
            {
                _report.Float32Initializers++;
                continue;
            }
            _report.ClampedValues += ReducedFloat.ConvertTensor(initializer, _options.Target);
            _current[name] = _target;
            _report.ConvertedInitializers++;
            // Exporters before IR 4 also list initializers among the graph's inputs; the declared type must follow.
            foreach (var input in _graph.Inputs.Where(i => i.Name == name))
                input.Type?.SetElementType(_target);
        }
    }

    private void SetInputTypes()
    {
        if (_options.KeepIoTypes)
            return;
        var initializers = _graph.Initializers.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var input in _graph.Inputs.Where(i => i.ElementType == OnnxDataType.Float && !initializers.Contains(i.Name)))
        {
            input.Type!.SetElementType(_target);
            _current[input.Name ?? ""] = _target;
            _otherChanges++;
        }
    }

    private void ConvertNode(NodeProto node, List<NodeProto> nodes)
    {
        var blocked = Blocked(node);
        if (blocked && node.Inputs.Concat(node.Outputs).Any(n => Original(n) == OnnxDataType.Float))
            _report.Blocked[node.QualifiedOpType] = _report.Blocked.GetValueOrDefault(node.QualifiedOpType) + 1;
        var before = new List<NodeProto>();
        for (var i = 0; i < node.Inputs.Count; i++)
        {
            if (_renamedOutputs.TryGetValue(node.Inputs[i], out var reduced))
                node.Inputs[i] = reduced;
            var name = node.Inputs[i];
            var wanted = Wanted(node, i);
            if (name.Length == 0 || wanted == OnnxDataType.Undefined)
                continue;
            if (!blocked && Original(name) == OnnxDataType.Undefined)
                throw UnknownType(node, name);
            if (Original(name) != OnnxDataType.Float)
                continue;
            if (Current(name) != wanted)
                node.Inputs[i] = CastTo(name, wanted, node, before);
        }
        foreach (var name in GraphWalk.OuterReferences(node).Order(StringComparer.Ordinal))
        {
            if (Original(name) == OnnxDataType.Float && Current(name) != OnnxDataType.Float)
                GraphWalk.RenameOuterReference(node, name, CastTo(name, OnnxDataType.Float, node, before));
        }
        if (!blocked)
            ConvertAttributes(node);
        var types = blocked ? null : _inference.OutputTypes(node, Current);
        for (var k = 0; k < node.Outputs.Count; k++)
        {
            var type = types?[k] ?? OnnxDataType.Undefined;
            _current[node.Outputs[k]] = type != OnnxDataType.Undefined ? type : Original(node.Outputs[k]);
        }
        if (ElementTypeRules.IsDefaultDomain(node.Domain)
            && node.OpType is "SequenceConstruct" or "SequenceInsert" or "SequenceErase" or "SequenceEmpty" or "SplitToSequence" or "Optional")
            _notTensors.UnionWith(node.Outputs);
        nodes.AddRange(before);
        nodes.Add(node);
        for (var k = 0; k < node.Outputs.Count; k++)
        {
            var output = node.Outputs[k];
            if (_keptOutputs.Contains(output) && Current(output) == _target)
                nodes.Add(CastBackToOutput(node, k));
        }
    }

    private NotSupportedException UnknownType(NodeProto reader, string name)
    {
        var source = _graph.Nodes.Find(n => n.Outputs.Contains(name)) is { } producer ? $"an output of {producer.Describe()}, an op the rewrite does not know" : "not declared";
        return new NotSupportedException(
            $"{reader.Describe()} reads '{name}', whose element type the precision rewrite cannot tell ({source}). " +
            $"State it in the graph's value_info (onnx.shape_inference.infer_shapes does), or add '{reader.OpType}' to BlockedOps " +
            $"(or the node to BlockedNodes) so the node stays in float32.");
    }

    /// <summary>A graph output computed in the reduced type: the node writes a new value, cast back to float32 under the output's name.</summary>
    private NodeProto CastBackToOutput(NodeProto node, int k)
    {
        var output = node.Outputs[k];
        var reduced = FreshName($"{output}_{_options.Target.ShortName()}");
        node.Outputs[k] = reduced;
        _original[reduced] = OnnxDataType.Float;
        _current[reduced] = _target;
        _current[output] = OnnxDataType.Float;
        _renamedOutputs[output] = reduced;
        _casts[(reduced, OnnxDataType.Float)] = output;
        return Cast(reduced, output, OnnxDataType.Float);
    }

    /// <summary>The value in type <paramref name="type"/>: a Cast made once per value and type, placed before its first reader.</summary>
    private string CastTo(string name, OnnxDataType type, NodeProto reader, List<NodeProto> before)
    {
        if (_casts.TryGetValue((name, type), out var existing))
            return existing;
        if (_notTensors.Contains(name))
            throw new NotSupportedException(
                $"The float32 value '{name}' is a sequence or optional, and {reader.Describe()} needs it in {TypeName(type)}: Cast takes tensors only. " +
                $"Add the ops that produce and read '{name}' to BlockedOps (or their nodes to BlockedNodes), or convert the model offline.");
        var output = FreshName($"{name}_{(type == OnnxDataType.Float ? "fp32" : _options.Target.ShortName())}");
        before.Add(Cast(name, output, type));
        _casts[(name, type)] = output;
        _current[output] = type;
        return output;
    }

    private NodeProto Cast(string input, string output, OnnxDataType type)
    {
        _report.CastsInserted++;
        var node = new NodeProto { Name = FreshName($"{output}_cast"), OpType = "Cast" };
        node.Inputs.Add(input);
        node.Outputs.Add(output);
        node.Attributes.Add(AttributeProto.Int("to", (long)type));
        return node;
    }

    private string FreshName(string name)
    {
        var candidate = name;
        for (var i = 2; !_names.Add(candidate); i++)
            candidate = $"{name}_{i}";
        return candidate;
    }

    /// <summary>The attributes of a node that computes in the reduced type: type attributes and float32 tensors.</summary>
    private void ConvertAttributes(NodeProto node)
    {
        var output = node.Outputs.FirstOrDefault() ?? "";
        switch (node.OpType)
        {
            // Like a constant, a cast to float32 is retargeted when a reader wants the reduced type; one that
            // only feeds float32 readers (a graph output, a blocked op) stays, so a rewritten model rewrites to itself.
            case "Cast" when node.Attribute("to") is { I: (long)OnnxDataType.Float } to && ConvertAtSource(output):
                to.I = (long)_target;
                _report.RetargetedCasts++;
                return;
            case "EyeLike" or "SequenceEmpty" when node.Attribute("dtype") is { I: (long)OnnxDataType.Float } dtype:
                dtype.I = (long)_target;
                _otherChanges++;
                return;
            case "Constant" or "ConstantOfShape":
                if (Original(output) == OnnxDataType.Float && ConvertAtSource(output))
                {
                    _report.ClampedValues += ConstantNodes.Convert(node, _options.Target);
                    _report.ConvertedConstants++;
                }
                return;
        }
        foreach (var tensor in node.Attributes.SelectMany(a => a.T is null ? a.Tensors : a.Tensors.Prepend(a.T)).Where(t => t.ElementType == OnnxDataType.Float))
            ConvertConstantTensor(tensor);
    }

    private void ConvertConstantTensor(TensorProto tensor)
    {
        _report.ClampedValues += ReducedFloat.ConvertTensor(tensor, _options.Target);
        _report.ConvertedConstants++;
    }

    private void SetOutputAndValueInfoTypes()
    {
        if (!_options.KeepIoTypes)
        {
            foreach (var output in _graph.Outputs.Where(o => o.ElementType == OnnxDataType.Float && Current(o.Name ?? "") == _target))
            {
                output.Type!.SetElementType(_target);
                _otherChanges++;
            }
        }
        // value_info is optional; entries of values now reduced are retyped (ONNX Runtime checks them against what it infers).
        foreach (var info in _graph.ValueInfo.Where(v => v.ElementType == OnnxDataType.Float && _current.GetValueOrDefault(v.Name ?? "") == _target))
            info.Type!.SetElementType(_target);
    }

    private PrecisionRewriteReport Report()
    {
        _report.Changed = _report.ConvertedInitializers + _report.ConvertedConstants + _report.RetargetedCasts + _report.CastsInserted + _otherChanges > 0;
        if (!_report.Changed)
        {
            var reducedTypes = _original.Values.Where(t => t is OnnxDataType.Float16 or OnnxDataType.BFloat16).Distinct().Select(TypeName).ToList();
            _report.UnchangedReason = _original.ContainsValue(OnnxDataType.Float) ? "every float32 value is read only by nodes kept in float32"
                : reducedTypes.Count > 0 ? $"no float32 values: the model is already in {string.Join(" and ", reducedTypes)}"
                : "no float32 values to convert";
        }
        return _report;
    }

    private static string TypeName(OnnxDataType type) => type switch
    {
        OnnxDataType.Float => "float32",
        OnnxDataType.Float16 => "float16",
        OnnxDataType.BFloat16 => "bfloat16",
        _ => type.ToString(),
    };
}
