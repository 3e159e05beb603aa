using Google.Protobuf;
using TrtMLNet.Backends.OnnxRuntime;
using TrtMLNet.Onnx;
using TrtMLNet.Tests.Models;

namespace TrtMLNet.Tests.Onnx;

/// <summary>The ONNX object model: parse + serialize gives back the same bytes, unknown fields and field order included.</summary>
public class OnnxObjectModelTests
{
    public static TheoryData<string> ModelNames => ["mlp", "multi-io", "encoder", "convnet", "layernorm-encoder", "bert-layer"];

    internal static byte[] Model(string name) => name switch
    {
        "mlp" => TestModels.Mlp().Build(),
        "multi-io" => TestModels.MultiIo().Build(),
        "encoder" => TestModels.TinyEncoder().Build(),
        "convnet" => PrecisionTestModels.ConvNet().Build(),
        "layernorm-encoder" => PrecisionTestModels.LayerNormEncoder().Build(),
        "bert-layer" => PrecisionTestModels.BertLayer().Build(),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(ModelNames))]
    public void UnchangedModelRoundTripsByteForByte(string name)
    {
        var bytes = Model(name);
        var model = ModelProto.Parse(bytes);
        Assert.Equal(bytes, model.ToBytes());
        Assert.Equal(0, model.UnknownFieldCount);
    }

    [Fact]
    public void ParsedFieldsMatchTheModel()
    {
        var model = ModelProto.Parse(TestModels.Mlp().Build());
        Assert.Equal(7, model.IrVersion);
        Assert.Equal(13, model.OpsetVersion(""));
        var graph = model.Graph!;
        Assert.Equal(["MatMul", "Add", "Relu", "MatMul", "Add", "Softmax"], graph.Nodes.Select(n => n.OpType));
        Assert.Equal(["features", "w1"], graph.Nodes[0].Inputs);
        Assert.Equal(1, graph.Nodes[5].Attribute("axis")!.I);
        var w1 = graph.Initializers[0];
        Assert.Equal("w1", w1.Name);
        Assert.Equal([20L, 64L], w1.Dims);
        Assert.Equal(OnnxDataType.Float, w1.ElementType);
        Assert.Equal(20 * 64 * 4, w1.RawData!.Value.Length);
        Assert.Equal(OnnxDataType.Float, graph.Inputs[0].ElementType);
        Assert.Equal("N", graph.Inputs[0].Type!.TensorType!.Shape!.Dims[0].DimParam);
        Assert.Equal(20, graph.Inputs[0].Type!.TensorType!.Shape!.Dims[1].DimValue);
    }

    /// <summary>
    /// A model whose messages carry fields this code does not decode (varint, fixed32, fixed64,
    /// length-delimited and a group), known fields out of numeric order, packed dims and a doc string.
    /// </summary>
    internal static byte[] ModelWithUnknownFields() => Message(m =>
    {
        m.WriteTag(99, WireFormat.WireType.Varint); m.WriteUInt64(123456789);
        m.WriteTag(1, WireFormat.WireType.Varint); m.WriteInt64(8);
        m.WriteTag(8, WireFormat.WireType.LengthDelimited); m.WriteBytes(Bytes(o => { o.WriteTag(2, WireFormat.WireType.Varint); o.WriteInt64(13); }));
        m.WriteTag(20, WireFormat.WireType.LengthDelimited); m.WriteBytes(Bytes(t => { t.WriteTag(1, WireFormat.WireType.LengthDelimited); t.WriteBytes(ByteString.Empty); }));
        m.WriteTag(7, WireFormat.WireType.LengthDelimited); m.WriteBytes(Bytes(g =>
        {
            g.WriteTag(2, WireFormat.WireType.LengthDelimited); g.WriteString("graph_with_extras");
            g.WriteTag(11, WireFormat.WireType.LengthDelimited); g.WriteBytes(ByteString.CopyFrom(ValueInfo("x")));
            g.WriteTag(5, WireFormat.WireType.LengthDelimited); g.WriteBytes(Bytes(t =>
            {
                t.WriteTag(8, WireFormat.WireType.LengthDelimited); t.WriteString("w");
                t.WriteTag(77, WireFormat.WireType.Fixed32); t.WriteFixed32(0xDEADBEEF);
                t.WriteTag(1, WireFormat.WireType.LengthDelimited); t.WriteBytes(Bytes(d => { d.WriteInt64(2); })); // packed dims
                t.WriteTag(9, WireFormat.WireType.LengthDelimited); t.WriteBytes(ByteString.CopyFrom(BitConverter.GetBytes(1.5f).Concat(BitConverter.GetBytes(-2f)).ToArray()));
                t.WriteTag(2, WireFormat.WireType.Varint); t.WriteInt32(1);
                t.WriteTag(78, WireFormat.WireType.Fixed64); t.WriteFixed64(0x0123456789ABCDEF);
            }));
            g.WriteTag(1, WireFormat.WireType.LengthDelimited); g.WriteBytes(Bytes(n =>
            {
                n.WriteTag(4, WireFormat.WireType.LengthDelimited); n.WriteString("Mul");
                n.WriteTag(50, WireFormat.WireType.StartGroup); n.WriteTag(1, WireFormat.WireType.Varint); n.WriteInt32(5); n.WriteTag(50, WireFormat.WireType.EndGroup);
                n.WriteTag(1, WireFormat.WireType.LengthDelimited); n.WriteString("x");
                n.WriteTag(1, WireFormat.WireType.LengthDelimited); n.WriteString("w");
                n.WriteTag(2, WireFormat.WireType.LengthDelimited); n.WriteString("y");
                n.WriteTag(6, WireFormat.WireType.LengthDelimited); n.WriteString("a node with extras");
                n.WriteTag(51, WireFormat.WireType.LengthDelimited); n.WriteString("unknown text");
            }));
            g.WriteTag(12, WireFormat.WireType.LengthDelimited); g.WriteBytes(ByteString.CopyFrom(ValueInfo("y")));
            g.WriteTag(40, WireFormat.WireType.Varint); g.WriteInt64(-1);
        }));
        m.WriteTag(98, WireFormat.WireType.LengthDelimited); m.WriteString("trailing unknown");
    });

    [Fact]
    public void UnknownFieldsAndFieldOrderSurviveARoundTrip()
    {
        var bytes = ModelWithUnknownFields();
        var model = ModelProto.Parse(bytes);
        Assert.Equal(bytes, model.ToBytes());
        Assert.Equal(3, model.UnknownFieldCount); // 99, 20 (training_info, kept as bytes), 98
        var graph = model.Graph!;
        Assert.Equal(1, graph.UnknownFieldCount);
        Assert.Equal(2, graph.Initializers[0].UnknownFieldCount);
        Assert.Equal(2, graph.Nodes[0].UnknownFieldCount);
        Assert.Equal([2L], graph.Initializers[0].Dims);
        Assert.Equal(["x", "w"], graph.Nodes[0].Inputs);
    }

    [Fact]
    public void EditedMessagesKeepTheirUnknownFields()
    {
        var model = ModelProto.Parse(ModelWithUnknownFields());
        var node = model.Graph!.Nodes[0];
        node.Inputs[1] = "w_renamed";
        model.Graph.Initializers[0].Name = "w_renamed";
        ReducedFloat.ConvertTensor(model.Graph.Initializers[0], ReducedPrecision.Float16);

        var reparsed = ModelProto.Parse(model.ToBytes());
        Assert.Equal(3, reparsed.UnknownFieldCount);
        Assert.Equal(2, reparsed.Graph!.Nodes[0].UnknownFieldCount);
        Assert.Equal(2, reparsed.Graph.Initializers[0].UnknownFieldCount);
        Assert.Equal(["x", "w_renamed"], reparsed.Graph.Nodes[0].Inputs);
        Assert.Equal("a node with extras", reparsed.Graph.Nodes[0].DocString);
        var tensor = reparsed.Graph.Initializers[0];
        Assert.Equal(OnnxDataType.Float16, tensor.ElementType);
        Assert.Equal([(Half)1.5f, (Half)(-2f)], MemoryMarshalHalfs(tensor.RawData!.Value));
        // The file's own reader agrees on what it can see.
        Assert.Equal(["x"], OnnxModelReader.Read(model.ToBytes(), "edited").Inputs.Select(i => i.Name));
    }

    [Fact]
    public void AKnownFieldInAWireTypeItDoesNotTakeIsKeptAsUnknownBytes()
    {
        // A tensor whose name (field 8, a string) comes as a varint, and whose data_type (field 2, an int)
        // comes length-delimited: neither may be decoded as what the schema says, both must survive.
        var bytes = Message(t =>
        {
            t.WriteTag(8, WireFormat.WireType.Varint); t.WriteInt64(7);
            t.WriteTag(2, WireFormat.WireType.LengthDelimited); t.WriteString("not an int");
            t.WriteTag(1, WireFormat.WireType.Varint); t.WriteInt64(3);
        });
        var tensor = new TensorProto();
        tensor.Read(bytes, 0, bytes.Length);

        Assert.Null(tensor.Name);
        Assert.Equal(2, tensor.UnknownFieldCount);
        Assert.Equal([3L], tensor.Dims);
        Assert.Equal(bytes, ProtoWriter.Serialize(tensor));
    }

    [Fact]
    public void NewMessagesAreWrittenInFieldOrder()
    {
        var tensor = new TensorProto { Name = "t", DataType = (int)OnnxDataType.Float };
        tensor.Dims.Add(2);
        tensor.FloatData.AddRange([1f, 2f]);
        var bytes = ProtoWriter.Serialize(tensor);
        // dims (1, varint, unpacked as onnx.proto declares), data_type (2), float_data (4, packed), name (8).
        var expected = Message(t =>
        {
            t.WriteTag(1, WireFormat.WireType.Varint); t.WriteInt64(2);
            t.WriteTag(2, WireFormat.WireType.Varint); t.WriteInt32(1);
            t.WriteTag(4, WireFormat.WireType.LengthDelimited); t.WriteBytes(Bytes(f => { f.WriteFloat(1f); f.WriteFloat(2f); }));
            t.WriteTag(8, WireFormat.WireType.LengthDelimited); t.WriteString("t");
        });
        Assert.Equal(expected, bytes);
    }

    [Fact]
    public void BytesThatAreNotProtobufAreRejected()
    {
        var error = Assert.Throws<InvalidDataException>(() => PrecisionRewrite.Rewrite([0x0A, 0xFF, 0xFF], new PrecisionRewriteOptions(), out _, "broken.onnx"));
        Assert.Contains("broken.onnx is not an ONNX model", error.Message);
    }

    private static Half[] MemoryMarshalHalfs(ReadOnlyMemory<byte> raw) =>
        Enumerable.Range(0, raw.Length / 2).Select(i => BitConverter.ToHalf(raw.Span.Slice(i * 2, 2))).ToArray();

    private static byte[] ValueInfo(string name) => Message(v =>
    {
        v.WriteTag(1, WireFormat.WireType.LengthDelimited); v.WriteString(name);
        v.WriteTag(2, WireFormat.WireType.LengthDelimited); v.WriteBytes(Bytes(t =>
        {
            t.WriteTag(1, WireFormat.WireType.LengthDelimited); t.WriteBytes(Bytes(tt => { tt.WriteTag(1, WireFormat.WireType.Varint); tt.WriteInt32(1); }));
        }));
    });

    internal static byte[] Message(Action<CodedOutputStream> write)
    {
        using var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        write(output);
        output.Flush();
        return stream.ToArray();
    }

    private static ByteString Bytes(Action<CodedOutputStream> write) => ByteString.CopyFrom(Message(write));
}
