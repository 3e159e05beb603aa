using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace TrtMLNet;

/// <summary>
/// Makes <see cref="SchemaShape.Column"/>s for an estimator's output schema. ML.NET keeps their
/// constructor internal (its own estimators are friend assemblies), so it is called by reflection;
/// this is the one place that does it.
/// </summary>
internal static class SchemaShapes
{
    private static readonly ConstructorInfo s_column =
        typeof(SchemaShape.Column).GetConstructor(
            BindingFlags.NonPublic | BindingFlags.Instance, null,
            [typeof(string), typeof(SchemaShape.Column.VectorKind), typeof(DataViewType), typeof(bool), typeof(SchemaShape)], null)
        ?? throw new MissingMethodException("This ML.NET version's SchemaShape.Column has no constructor TrtMLNet knows.");

    public static SchemaShape.Column Vector(string name, DataViewType itemType) =>
        (SchemaShape.Column)s_column.Invoke([name, SchemaShape.Column.VectorKind.Vector, itemType, false, null]);
}
