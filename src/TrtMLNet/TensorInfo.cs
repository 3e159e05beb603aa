namespace TrtMLNet;

/// <summary>
/// One input or output of a model as its backend states it. Dimensions the model leaves open are -1;
/// <see cref="DimNames"/> keeps their symbolic names (e.g. "batch", "sequence"), which is how an
/// output's open dimension is tied to an input's.
/// </summary>
internal sealed record TensorInfo(string Name, TensorElementType ElementType, long[] Shape, string?[] DimNames)
{
    /// <summary>The type's name as the model states it; differs from <see cref="ElementType"/> only when that is Unsupported.</summary>
    public string TypeName { get; init; } = ElementType.OnnxName();

    public int Rank => Shape.Length;

    public string ShapeText => FormatShape(Shape, DimNames);

    public static string FormatShape(IReadOnlyList<long> shape, IReadOnlyList<string?>? names = null) =>
        "[" + string.Join(",", shape.Select((d, i) => d >= 0 ? d.ToString(System.Globalization.CultureInfo.InvariantCulture)
            : names is not null && i < names.Count && !string.IsNullOrEmpty(names[i]) ? names[i] : "?")) + "]";

    public override string ToString() => $"'{Name}' {TypeName}{ShapeText}";
}
