using Google.Protobuf;

namespace TrtMLNet.Tests.Models;

/// <summary>ONNX element types, by their TensorProto.DataType numbers.</summary>
public enum OnnxType
{
    Float = 1,
    UInt8 = 2,
    Int32 = 6,
    Int64 = 7,
    Bool = 9,
    Float16 = 10,
    Double = 11,
    BFloat16 = 16,
}

/// <summary>A graph for a node attribute (If's branches), from <see cref="OnnxModelBuilder.BuildGraph"/>.</summary>
public sealed record OnnxGraph(byte[] Bytes);

/// <summary>A tensor for a node attribute (Constant's value, ConstantOfShape's value): raw little-endian bytes.</summary>
public sealed record OnnxTensor(OnnxType Type, long[] Dims, byte[] Raw)
{
    public static OnnxTensor Of(float[] values, params long[] dims) => new(OnnxType.Float, dims, values.SelectMany(BitConverter.GetBytes).ToArray());

    public static OnnxTensor Of(long[] values, params long[] dims) => new(OnnxType.Int64, dims, values.SelectMany(BitConverter.GetBytes).ToArray());
}

/// <summary>
/// Writes small ONNX models for tests, straight in the protobuf wire format (field numbers from
/// onnx.proto), so the tests need neither Python nor binary files in the repository.
/// </summary>
public sealed class OnnxModelBuilder(int opset = 13)
{
    private readonly List<byte[]> _nodes = [];
    private readonly List<byte[]> _initializers = [];
    private readonly List<byte[]> _inputs = [];
    private readonly List<byte[]> _outputs = [];
    private readonly List<(string Domain, long Version)> _opsets = [];
    private int _nodeCount;

    /// <summary>A graph input; each dimension is a size (int/long) or a symbolic name (string).</summary>
    public OnnxModelBuilder Input(string name, OnnxType type, params object[] dims)
    {
        _inputs.Add(ValueInfo(name, type, dims));
        return this;
    }

    public OnnxModelBuilder Output(string name, OnnxType type, params object[] dims)
    {
        _outputs.Add(ValueInfo(name, type, dims));
        return this;
    }

    public OnnxModelBuilder Initializer(string name, float[] values, params long[] dims) =>
        AddInitializer(name, OnnxType.Float, dims, values.SelectMany(BitConverter.GetBytes).ToArray());

    public OnnxModelBuilder Initializer(string name, long[] values, params long[] dims) =>
        AddInitializer(name, OnnxType.Int64, dims, values.SelectMany(BitConverter.GetBytes).ToArray());

    public OnnxModelBuilder Initializer(string name, double[] values, params long[] dims) =>
        AddInitializer(name, OnnxType.Double, dims, values.SelectMany(BitConverter.GetBytes).ToArray());

    public OnnxModelBuilder Initializer(string name, Half[] values, params long[] dims) =>
        AddInitializer(name, OnnxType.Float16, dims, values.SelectMany(BitConverter.GetBytes).ToArray());

    /// <summary>A float32 initializer whose data is in a file next to the model (data_location EXTERNAL).</summary>
    public OnnxModelBuilder ExternalInitializer(string name, string location, params long[] dims)
    {
        _initializers.Add(Message(w =>
        {
            foreach (var d in dims) { w.WriteTag(1, WireFormat.WireType.Varint); w.WriteInt64(d); }
            w.WriteTag(2, WireFormat.WireType.Varint); w.WriteInt32((int)OnnxType.Float);
            w.WriteTag(8, WireFormat.WireType.LengthDelimited); w.WriteString(name);
            WriteBytes(w, 13, Message(e =>
            {
                e.WriteTag(1, WireFormat.WireType.LengthDelimited); e.WriteString("location");
                e.WriteTag(2, WireFormat.WireType.LengthDelimited); e.WriteString(location);
            }));
            w.WriteTag(14, WireFormat.WireType.Varint); w.WriteInt32(1); // EXTERNAL
        }));
        return this;
    }

    /// <summary>A node; attributes are (name, value) with value a long, float, long[], float[], string, <see cref="OnnxTensor"/> or <see cref="OnnxGraph"/>.</summary>
    public OnnxModelBuilder Node(string op, string[] inputs, string[] outputs, params (string Name, object Value)[] attributes) =>
        DomainNode("", op, inputs, outputs, attributes);

    /// <summary>A node of another domain ("ai.onnx.ml", "com.microsoft"); declare the domain's opset with <see cref="Opset"/>.</summary>
    public OnnxModelBuilder DomainNode(string domain, string op, string[] inputs, string[] outputs, params (string Name, object Value)[] attributes)
    {
        _nodes.Add(Message(w =>
        {
            foreach (var input in inputs) { w.WriteTag(1, WireFormat.WireType.LengthDelimited); w.WriteString(input); }
            foreach (var output in outputs) { w.WriteTag(2, WireFormat.WireType.LengthDelimited); w.WriteString(output); }
            w.WriteTag(3, WireFormat.WireType.LengthDelimited); w.WriteString($"{op}_{_nodeCount++}");
            w.WriteTag(4, WireFormat.WireType.LengthDelimited); w.WriteString(op);
            foreach (var (name, value) in attributes)
                WriteBytes(w, 5, Attribute(name, value));
            if (domain.Length > 0) { w.WriteTag(7, WireFormat.WireType.LengthDelimited); w.WriteString(domain); }
        }));
        return this;
    }

    /// <summary>Imports another domain's opset.</summary>
    public OnnxModelBuilder Opset(string domain, long version)
    {
        _opsets.Add((domain, version));
        return this;
    }

    /// <summary>The graph alone, for a node's graph attribute (If's branches, Loop's body): see <see cref="OnnxGraph"/>.</summary>
    public OnnxGraph BuildGraph() => new(GraphBytes());

    public byte[] Build() => Message(w =>
    {
        w.WriteTag(1, WireFormat.WireType.Varint); w.WriteInt64(7); // ir_version 7
        w.WriteTag(2, WireFormat.WireType.LengthDelimited); w.WriteString("TrtMLNet.Tests");
        WriteBytes(w, 7, GraphBytes());
        WriteBytes(w, 8, Message(o =>
        {
            o.WriteTag(2, WireFormat.WireType.Varint); o.WriteInt64(opset);
        }));
        foreach (var (domain, version) in _opsets)
        {
            WriteBytes(w, 8, Message(o =>
            {
                o.WriteTag(1, WireFormat.WireType.LengthDelimited); o.WriteString(domain);
                o.WriteTag(2, WireFormat.WireType.Varint); o.WriteInt64(version);
            }));
        }
    });

    private byte[] GraphBytes() => Message(g =>
    {
        foreach (var node in _nodes) WriteBytes(g, 1, node);
        g.WriteTag(2, WireFormat.WireType.LengthDelimited); g.WriteString("test_graph");
        foreach (var initializer in _initializers) WriteBytes(g, 5, initializer);
        foreach (var input in _inputs) WriteBytes(g, 11, input);
        foreach (var output in _outputs) WriteBytes(g, 12, output);
    });

    public string Save(string path)
    {
        File.WriteAllBytes(path, Build());
        return path;
    }

    private OnnxModelBuilder AddInitializer(string name, OnnxType type, long[] dims, byte[] raw)
    {
        _initializers.Add(Message(w =>
        {
            foreach (var d in dims) { w.WriteTag(1, WireFormat.WireType.Varint); w.WriteInt64(d); }
            w.WriteTag(2, WireFormat.WireType.Varint); w.WriteInt32((int)type);
            w.WriteTag(8, WireFormat.WireType.LengthDelimited); w.WriteString(name);
            w.WriteTag(9, WireFormat.WireType.LengthDelimited); w.WriteBytes(ByteString.CopyFrom(raw));
        }));
        return this;
    }

    private static byte[] ValueInfo(string name, OnnxType type, object[] dims) => Message(w =>
    {
        w.WriteTag(1, WireFormat.WireType.LengthDelimited); w.WriteString(name);
        WriteBytes(w, 2, Message(t => WriteBytes(t, 1, Message(tensor =>
        {
            tensor.WriteTag(1, WireFormat.WireType.Varint); tensor.WriteInt32((int)type);
            WriteBytes(tensor, 2, Message(shape =>
            {
                foreach (var dim in dims)
                {
                    WriteBytes(shape, 1, Message(d =>
                    {
                        if (dim is string param) { d.WriteTag(2, WireFormat.WireType.LengthDelimited); d.WriteString(param); }
                        else { d.WriteTag(1, WireFormat.WireType.Varint); d.WriteInt64(Convert.ToInt64(dim)); }
                    }));
                }
            }));
        }))));
    });

    private static byte[] Attribute(string name, object value) => Message(w =>
    {
        w.WriteTag(1, WireFormat.WireType.LengthDelimited); w.WriteString(name);
        switch (value)
        {
            case float f:
                w.WriteTag(2, WireFormat.WireType.Fixed32); w.WriteFloat(f);
                w.WriteTag(20, WireFormat.WireType.Varint); w.WriteInt32(1); // FLOAT
                break;
            case int or long:
                w.WriteTag(3, WireFormat.WireType.Varint); w.WriteInt64(Convert.ToInt64(value));
                w.WriteTag(20, WireFormat.WireType.Varint); w.WriteInt32(2); // INT
                break;
            case string s:
                w.WriteTag(4, WireFormat.WireType.LengthDelimited); w.WriteBytes(ByteString.CopyFromUtf8(s));
                w.WriteTag(20, WireFormat.WireType.Varint); w.WriteInt32(3); // STRING
                break;
            case OnnxTensor tensor:
                WriteBytes(w, 5, Message(t =>
                {
                    foreach (var d in tensor.Dims) { t.WriteTag(1, WireFormat.WireType.Varint); t.WriteInt64(d); }
                    t.WriteTag(2, WireFormat.WireType.Varint); t.WriteInt32((int)tensor.Type);
                    t.WriteTag(9, WireFormat.WireType.LengthDelimited); t.WriteBytes(ByteString.CopyFrom(tensor.Raw));
                }));
                w.WriteTag(20, WireFormat.WireType.Varint); w.WriteInt32(4); // TENSOR
                break;
            case OnnxGraph graph:
                WriteBytes(w, 6, graph.Bytes);
                w.WriteTag(20, WireFormat.WireType.Varint); w.WriteInt32(5); // GRAPH
                break;
            case float[] floats:
                foreach (var f in floats) { w.WriteTag(7, WireFormat.WireType.Fixed32); w.WriteFloat(f); }
                w.WriteTag(20, WireFormat.WireType.Varint); w.WriteInt32(6); // FLOATS
                break;
            case long[] ints:
                foreach (var i in ints) { w.WriteTag(8, WireFormat.WireType.Varint); w.WriteInt64(i); }
                w.WriteTag(20, WireFormat.WireType.Varint); w.WriteInt32(7); // INTS
                break;
            default:
                throw new ArgumentException($"Attribute type {value.GetType()} is not supported by the test builder.");
        }
    });

    private static byte[] Message(Action<CodedOutputStream> write)
    {
        using var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        write(output);
        output.Flush();
        return stream.ToArray();
    }

    private static void WriteBytes(CodedOutputStream output, int field, byte[] bytes)
    {
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(bytes));
    }
}
