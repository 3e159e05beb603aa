using System.Reflection;
using Google.Protobuf;
using static Google.Protobuf.WireFormat.WireType;

namespace TrtMLNet.Onnx;

/// <summary>The kinds of field onnx.proto's messages have, each picked by the type of the property that holds it.</summary>
internal static class FieldKinds<T> where T : OnnxMessage
{
    private delegate TValue Decode<out TValue>(in ProtoField field);

    private delegate void Append<TValue>(in ProtoField field, List<TValue> values);

    /// <summary>Makes the field a property holds.</summary>
    private delegate SchemaField<T> Kind(PropertyInfo property, FieldAttribute field);

    private static readonly Dictionary<Type, Kind> s_kinds = new()
    {
        [typeof(string)] = Optional<string?>(LengthDelimited, static (in f) => f.String, static (w, n, v) => w.String(n, v)),
        [typeof(ReadOnlyMemory<byte>?)] = Optional<ReadOnlyMemory<byte>?>(LengthDelimited, static (in f) => f.Bytes, static (w, n, v) => w.Bytes(n, v)),
        [typeof(long?)] = Optional<long?>(Varint, static (in f) => f.Int64, static (w, n, v) => w.Int64(n, v)),
        [typeof(int?)] = Optional<int?>(Varint, static (in f) => f.Int32, static (w, n, v) => w.Int32(n, v)), // int32 and enums
        [typeof(float?)] = Optional<float?>(Fixed32, static (in f) => f.Float, static (w, n, v) => w.Float(n, v)),
        [typeof(List<string>)] = Repeated<string>(LengthDelimited, static (in f, list) => list.Add(f.String), static (w, n, list, _) => w.Strings(n, list)),
        [typeof(List<ReadOnlyMemory<byte>>)] =
            Repeated<ReadOnlyMemory<byte>>(LengthDelimited, static (in f, list) => list.Add(f.Bytes), static (w, n, list, _) => w.Bytes(n, list)),
        [typeof(List<long>)] = Numbers<long>(Varint, static (in f, list) => f.AddTo(list), static (w, n, list, packed) => w.Int64s(n, list, packed)),
        [typeof(List<int>)] = Numbers<int>(Varint, static (in f, list) => f.AddTo(list), static (w, n, list, packed) => w.Int32s(n, list, packed)),
        [typeof(List<ulong>)] = Numbers<ulong>(Varint, static (in f, list) => f.AddTo(list), static (w, n, list, packed) => w.UInt64s(n, list, packed)),
        [typeof(List<float>)] = Numbers<float>(Fixed32, static (in f, list) => f.AddTo(list), static (w, n, list, packed) => w.Floats(n, list, packed)),
        [typeof(List<double>)] = Numbers<double>(Fixed64, static (in f, list) => f.AddTo(list), static (w, n, list, packed) => w.Doubles(n, list, packed)),
    };

    /// <summary>The field <paramref name="property"/> holds: one of the kinds above, a message, or a List of messages.</summary>
    public static SchemaField<T> Of(PropertyInfo property, FieldAttribute field)
    {
        var kind = s_kinds.GetValueOrDefault(property.PropertyType) ?? MessageKind(property.PropertyType)
            ?? throw new NotSupportedException($"{typeof(T).Name}.{property.Name}: no protobuf field kind for {property.PropertyType.Name}.");
        var schemaField = kind(property, field);
        if (field.Packed && !schemaField.Packable)
            throw new NotSupportedException($"{typeof(T).Name}.{property.Name}: only a repeated number can be packed.");
        return schemaField;
    }

    // A kind made for each message type, so that reading one is a plain `new`.
    private static Kind? MessageKind(Type type)
    {
        var list = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>);
        var message = list ? type.GetGenericArguments()[0] : type;
        if (!message.IsSubclassOf(typeof(OnnxMessage)))
            return null;
        var factory = typeof(FieldKinds<T>).GetMethod(list ? nameof(Messages) : nameof(Message), BindingFlags.NonPublic | BindingFlags.Static)!;
        return factory.MakeGenericMethod(message).CreateDelegate<Kind>();
    }

    private static SchemaField<T> Message<TMessage>(PropertyInfo property, FieldAttribute field) where TMessage : OnnxMessage, new() =>
        Optional<TMessage?>(LengthDelimited, static (in f) => f.Message<TMessage>(), static (w, n, v) => w.Message(n, v))(property, field);

    private static SchemaField<T> Messages<TMessage>(PropertyInfo property, FieldAttribute field) where TMessage : OnnxMessage, new() =>
        Repeated<TMessage>(LengthDelimited, static (in f, list) => list.Add(f.Message<TMessage>()), static (w, n, list, _) => w.Messages(n, list))(property, field);

    private static Kind Optional<TValue>(
        WireFormat.WireType wire, Decode<TValue> decode, Action<ProtoWriter, int, TValue> write) => (property, field) =>
    {
        var get = property.GetMethod!.CreateDelegate<Func<T, TValue>>();
        var set = property.SetMethod?.CreateDelegate<Action<T, TValue>>()
            ?? throw new NotSupportedException($"{typeof(T).Name}.{property.Name}: an optional field's property needs a setter.");
        return new(field.Number, wire, (m, in f) => set(m, decode(f)), (m, w, n, _) => write(w, n, get(m)));
    };

    private static Kind Repeated<TValue>(
        WireFormat.WireType wire, Append<TValue> add, Action<ProtoWriter, int, List<TValue>, bool> write) => (property, field) =>
    {
        var get = property.GetMethod!.CreateDelegate<Func<T, List<TValue>>>();
        return new(field.Number, wire, (m, in f) => add(f, get(m)), (m, w, n, packed) => write(w, n, get(m), packed));
    };

    /// <summary>A repeated number, whose values may come one a field or, packed, as one run: <see cref="ProtoField"/>'s AddTo reads both.</summary>
    private static Kind Numbers<TValue>(
        WireFormat.WireType wire, Append<TValue> add, Action<ProtoWriter, int, List<TValue>, bool> write) =>
        (property, field) => Repeated(wire, add, write)(property, field) with { Packable = true, PackedByDefault = field.Packed };
}
