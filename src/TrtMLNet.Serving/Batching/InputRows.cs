using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace TrtMLNet.Serving.Batching;

/// <summary>How rows of <typeparamref name="TIn"/> become ML.NET columns, decided once per pool.</summary>
internal static class InputRows<TIn> where TIn : class
{
    /// <summary>
    /// The columns of <typeparamref name="TIn"/>, with vector sizes taken from the model's saved input
    /// schema where the class leaves them open (as <c>CreatePredictionEngine(model, inputSchema)</c> does):
    /// an engine is built for fixed row shapes.
    /// </summary>
    public static SchemaDefinition Definition(DataViewSchema? inputSchema)
    {
        var definition = SchemaDefinition.Create(typeof(TIn), SchemaDefinition.Direction.Read);
        if (inputSchema is null)
            return definition;
        foreach (var column in definition)
        {
            if (inputSchema.GetColumnOrNull(column.ColumnName) is not { Type: VectorDataViewType saved } || !saved.IsKnownSize)
                continue;
            if (column.ColumnType is VectorDataViewType mine && !mine.IsKnownSize && mine.ItemType.Equals(saved.ItemType))
                column.ColumnType = saved;
        }
        return definition;
    }

    /// <summary>The field or property of <typeparamref name="TIn"/> a column reads.</summary>
    public static MemberInfo? Member(SchemaDefinition.Column column) =>
        typeof(TIn).GetMember(column.MemberName, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance).FirstOrDefault();

    /// <summary>
    /// A row for warming up when none is given: every vector column an array of zeros of its size, every
    /// string empty, every other member its type's default.
    /// </summary>
    public static TIn DefaultRow(SchemaDefinition definition)
    {
        var row = Activator.CreateInstance<TIn>();
        foreach (var column in definition)
        {
            var member = Member(column);
            var type = member switch { PropertyInfo p => p.PropertyType, FieldInfo f => f.FieldType, _ => null };
            object? value = type switch
            {
                null => null,
                { IsArray: true } when column.ColumnType is VectorDataViewType { IsKnownSize: true } vector =>
                    Array.CreateInstance(type.GetElementType()!, vector.Size),
                { IsArray: true } => throw new InvalidOperationException(
                    $"Cannot make a warm-up row for {typeof(TIn).Name}: column '{column.ColumnName}' has no fixed size. Give its size with [VectorType(...)] or set " +
                        $"PredictionPoolOptions.WarmupInput."),
                _ when type == typeof(string) => "",
                _ => null,
            };
            switch (member)
            {
                case PropertyInfo p when value is not null: p.SetValue(row, value); break;
                case FieldInfo f when value is not null: f.SetValue(row, value); break;
            }
        }
        return row;
    }
}
