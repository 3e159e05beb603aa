using Google.Protobuf;
using static TrtMLNet.Onnx.OnnxFields;
using static TrtMLNet.Onnx.OnnxModelReader;

namespace TrtMLNet.Onnx;

/// <summary>
/// Edits of an ONNX model's bytes that leave everything else as it was: a metadata property added,
/// the batch dimension opened.
/// </summary>
internal static class OnnxModelEditor
{
    /// <summary>
    /// The same model with one more metadata property. Protobuf merges repeated fields that appear
    /// later in a message, so appending the field to the end is a valid edit that leaves every other
    /// byte as it was.
    /// </summary>
    public static byte[] WithMetadata(byte[] model, string key, string value)
    {
        using var entry = new MemoryStream();
        var entryOut = new CodedOutputStream(entry);
        entryOut.WriteTag(EntryKey, WireFormat.WireType.LengthDelimited);
        entryOut.WriteString(key);
        entryOut.WriteTag(EntryValue, WireFormat.WireType.LengthDelimited);
        entryOut.WriteString(value);
        entryOut.Flush();

        using var result = new MemoryStream();
        result.Write(model);
        var output = new CodedOutputStream(result);
        output.WriteTag(ModelMetadataProps, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(entry.ToArray()));
        output.Flush();
        return result.ToArray();
    }

    /// <summary>
    /// The same model with the leading dimension of every graph input and output made symbolic
    /// ("batch"), for exports that fix the batch at 1. Intermediate shapes recorded in value_info are
    /// dropped, since they would still say 1; ONNX Runtime infers them again. Whether the graph really
    /// works at other batch sizes (no reshape baked to 1) is for the caller to check by running it.
    /// </summary>
    public static byte[] WithOpenBatch(byte[] model)
    {
        var graph = new GraphContents();
        var input = new CodedInputStream(model);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == ModelGraph && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
                ReadGraph(input.ReadBytes(), graph);
            else
                input.SkipLastField();
        }
        return Rewrite(ByteString.CopyFrom(model), (field, value) => field != ModelGraph ? value : Rewrite(value, (graphField, item) => graphField switch
        {
            GraphValueInfo => null,
            GraphInput when graph.InitializerNames.Contains(ReadValueInfo(item).Name) => item,
            GraphInput or GraphOutput => OpenFirstDimension(item),
            _ => item,
        })).ToByteArray();
    }

    private static ByteString OpenFirstDimension(ByteString valueInfo) =>
        Rewrite(valueInfo, (field, type) => field != ValueInfoType ? type :
            Rewrite(type, (typeField, tensor) => typeField != TypeTensor ? tensor :
                Rewrite(tensor, (tensorField, shape) => tensorField != TensorTypeShape ? shape : OpenFirst(shape))));

    private static ByteString OpenFirst(ByteString shape)
    {
        var first = true;
        return Rewrite(shape, (field, dim) =>
        {
            if (field != ShapeDim || !first)
                return dim;
            first = false;
            using var stream = new MemoryStream();
            var output = new CodedOutputStream(stream);
            output.WriteTag(DimParam, WireFormat.WireType.LengthDelimited);
            output.WriteString("batch");
            output.Flush();
            return ByteString.CopyFrom(stream.ToArray());
        });
    }

    /// <summary>
    /// Copies a message field by field; each length-delimited field goes through <paramref name="map"/>,
    /// which returns it as is, changed, or null to drop it.
    /// </summary>
    private static ByteString Rewrite(ByteString message, Func<int, ByteString, ByteString?> map)
    {
        var input = message.CreateCodedInput();
        using var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            var field = WireFormat.GetTagFieldNumber(tag);
            switch (WireFormat.GetTagWireType(tag))
            {
                case WireFormat.WireType.Varint:
                    output.WriteTag(tag);
                    output.WriteUInt64(input.ReadUInt64());
                    break;
                case WireFormat.WireType.Fixed32:
                    output.WriteTag(tag);
                    output.WriteFixed32(input.ReadFixed32());
                    break;
                case WireFormat.WireType.Fixed64:
                    output.WriteTag(tag);
                    output.WriteFixed64(input.ReadFixed64());
                    break;
                case WireFormat.WireType.LengthDelimited:
                    if (map(field, input.ReadBytes()) is { } value)
                    {
                        output.WriteTag(tag);
                        output.WriteBytes(value);
                    }
                    break;
                default:
                    throw new InvalidDataException($"Protobuf wire type {WireFormat.GetTagWireType(tag)} (groups) does not occur in ONNX models.");
            }
        }
        output.Flush();
        return ByteString.CopyFrom(stream.ToArray());
    }
}
