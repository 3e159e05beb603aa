using Google.Protobuf;
using static TrtMLNet.Onnx.OnnxFields;

namespace TrtMLNet.Onnx;

/// <summary>
/// Reads what TrtMLNet needs from an ONNX file itself, walking the protobuf wire format (no generated
/// classes: only a handful of fields are needed).
/// </summary>
internal static class OnnxModelReader
{
    /// <summary>Reads an ONNX model; <paramref name="source"/> names it in the error when the bytes are not one.</summary>
    public static OnnxModelFile Read(byte[] bytes, string source)
    {
        long ir = -1;
        var hasGraph = false;
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var graph = new GraphContents();
        try
        {
            var input = new CodedInputStream(bytes);
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                switch (WireFormat.GetTagFieldNumber(tag))
                {
                    case ModelIrVersion when WireFormat.GetTagWireType(tag) == WireFormat.WireType.Varint:
                        ir = input.ReadInt64();
                        break;
                    case ModelGraph when WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited:
                        hasGraph = true;
                        ReadGraph(input.ReadBytes(), graph);
                        break;
                    case ModelMetadataProps when WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited:
                        var (key, value) = ReadEntry(input.ReadBytes());
                        metadata[key] = value;
                        break;
                    default:
                        input.SkipLastField();
                        break;
                }
            }
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"{source} is not an ONNX model: its bytes are not a valid protobuf message ({e.Message}).", e);
        }
        if (ir <= 0 || !hasGraph)
            throw new InvalidDataException(
                $"{source} is not an ONNX model: it has {(ir <= 0 ? "no IR version" : "")}{(ir <= 0 && !hasGraph ? " and " : "")}{(!hasGraph ? "no graph" : "")}.");
        var inputs = graph.Inputs.Where(i => !graph.InitializerNames.Contains(i.Name)).ToList();
        return new OnnxModelFile(ir, graph.InitializerBytes, graph.InitializerNames.Count, metadata, inputs, graph.Outputs, graph.OpTypes);
    }

    internal sealed class GraphContents
    {
        public long InitializerBytes;
        public HashSet<string> InitializerNames { get; } = new(StringComparer.Ordinal);
        public List<TensorInfo> Inputs { get; } = [];
        public List<TensorInfo> Outputs { get; } = [];
        public HashSet<string> OpTypes { get; } = new(StringComparer.Ordinal);
    }

    internal static void ReadGraph(ByteString bytes, GraphContents graph)
    {
        var input = bytes.CreateCodedInput();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagWireType(tag) != WireFormat.WireType.LengthDelimited)
            {
                input.SkipLastField();
                continue;
            }
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case GraphNode:
                    graph.OpTypes.Add(ReadOpType(input.ReadBytes()));
                    break;
                case GraphInitializer:
                    var (name, size) = ReadTensor(input.ReadBytes());
                    graph.InitializerBytes += size;
                    graph.InitializerNames.Add(name);
                    break;
                case GraphInput:
                    graph.Inputs.Add(ReadValueInfo(input.ReadBytes()));
                    break;
                case GraphOutput:
                    graph.Outputs.Add(ReadValueInfo(input.ReadBytes()));
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }
    }

    private static string ReadOpType(ByteString bytes)
    {
        var input = bytes.CreateCodedInput();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == NodeOpType && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
                return input.ReadString();
            input.SkipLastField();
        }
        return "";
    }

    /// <summary>A ValueInfoProto: name, and for a tensor its element type and shape (-1 and a name for symbolic dimensions).</summary>
    internal static TensorInfo ReadValueInfo(ByteString bytes)
    {
        var input = bytes.CreateCodedInput();
        var name = "";
        var elemType = 0;
        var hasShape = false;
        var dims = new List<long>();
        var dimNames = new List<string?>();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case ValueInfoName:
                    name = input.ReadString();
                    break;
                case ValueInfoType:
                    var type = input.ReadBytes().CreateCodedInput();
                    while ((tag = type.ReadTag()) != 0)
                    {
                        if (WireFormat.GetTagFieldNumber(tag) != TypeTensor)
                        {
                            type.SkipLastField();
                            continue;
                        }
                        var tensor = type.ReadBytes().CreateCodedInput();
                        while ((tag = tensor.ReadTag()) != 0)
                        {
                            switch (WireFormat.GetTagFieldNumber(tag))
                            {
                                case TensorTypeElem: elemType = tensor.ReadInt32(); break;
                                case TensorTypeShape:
                                    hasShape = true;
                                    ReadShape(tensor.ReadBytes(), dims, dimNames);
                                    break;
                                default: tensor.SkipLastField(); break;
                            }
                        }
                    }
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }
        var (elementType, typeName) = OnnxDataTypes.FromOnnx(elemType);
        // A tensor without a shape has an unknown rank; TrtMLNet treats it as one open dimension.
        if (!hasShape)
        {
            dims.Add(-1);
            dimNames.Add(null);
        }
        return new TensorInfo(name, elementType, [.. dims], [.. dimNames]) { TypeName = typeName };
    }

    private static void ReadShape(ByteString bytes, List<long> dims, List<string?> names)
    {
        var shape = bytes.CreateCodedInput();
        uint tag;
        while ((tag = shape.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) != ShapeDim)
            {
                shape.SkipLastField();
                continue;
            }
            var dim = shape.ReadBytes().CreateCodedInput();
            long value = -1;
            string? param = null;
            while ((tag = dim.ReadTag()) != 0)
            {
                switch (WireFormat.GetTagFieldNumber(tag))
                {
                    case DimValue: value = dim.ReadInt64(); break;
                    case DimParam: param = dim.ReadString(); break;
                    default: dim.SkipLastField(); break;
                }
            }
            dims.Add(value > 0 ? value : -1);
            names.Add(param);
        }
    }

    private static (string Name, long Bytes) ReadTensor(ByteString tensor)
    {
        var input = tensor.CreateCodedInput();
        long elements = 1, raw = -1, external = -1;
        var dataType = 0;
        var name = "";
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            var wire = WireFormat.GetTagWireType(tag);
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case TensorDims when wire == WireFormat.WireType.Varint:
                    elements *= input.ReadInt64();
                    break;
                case TensorDims when wire == WireFormat.WireType.LengthDelimited:
                    var packed = input.ReadBytes().CreateCodedInput();
                    while (!packed.IsAtEnd)
                        elements *= packed.ReadInt64();
                    break;
                case TensorDataType when wire == WireFormat.WireType.Varint:
                    dataType = input.ReadInt32();
                    break;
                case TensorRawData when wire == WireFormat.WireType.LengthDelimited:
                    raw = input.ReadBytes().Length;
                    break;
                case TensorProtoName when wire == WireFormat.WireType.LengthDelimited:
                    name = input.ReadString();
                    break;
                case TensorExternalData when wire == WireFormat.WireType.LengthDelimited:
                    var (key, value) = ReadEntry(input.ReadBytes());
                    if (key == "length" && long.TryParse(value, out var length))
                        external = length;
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }
        var bytes = raw >= 0 ? raw : external >= 0 ? external : elements * ElementSize(dataType);
        return (name, bytes);
    }

    /// <summary>Bytes per element of an ONNX TensorProto.DataType (sub-byte types rounded up).</summary>
    private static long ElementSize(int dataType) => dataType switch
    {
        2 or 3 or 9 or 17 or 18 or 19 or 20 or 21 or 22 => 1, // uint8, int8, bool, fp8 variants, 4-bit
        4 or 5 or 10 or 16 => 2,                           // uint16, int16, float16, bfloat16
        1 or 6 or 12 => 4,                                 // float, int32, uint32
        7 or 11 or 13 or 14 => 8,                          // int64, double, uint64, complex64
        15 => 16,                                          // complex128
        _ => 0,                                            // strings and unknown: no fixed size
    };

    private static (string Key, string Value) ReadEntry(ByteString entry)
    {
        var input = entry.CreateCodedInput();
        string key = "", value = "";
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case EntryKey: key = input.ReadString(); break;
                case EntryValue: value = input.ReadString(); break;
                default: input.SkipLastField(); break;
            }
        }
        return (key, value);
    }
}
