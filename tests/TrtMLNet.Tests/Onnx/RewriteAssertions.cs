using TrtMLNet.Onnx;

namespace TrtMLNet.Tests.Onnx;

/// <summary>Reads a rewritten graph for the tests: who produces a value, who reads it, what type a Cast makes.</summary>
internal static class RewriteAssertions
{
    public static byte[] Rewrite(byte[] model, out PrecisionRewriteReport report, PrecisionRewriteOptions? options = null) =>
        PrecisionRewrite.Rewrite(model, options ?? new PrecisionRewriteOptions(), out report);

    public static GraphProto Graph(byte[] model) => ModelProto.Parse(model).Graph!;

    public static NodeProto Producer(this GraphProto graph, string value) =>
        graph.Nodes.Single(n => n.Outputs.Contains(value));

    public static IEnumerable<NodeProto> Readers(this GraphProto graph, string value) =>
        graph.Nodes.Where(n => n.Inputs.Contains(value));

    public static NodeProto Node(this GraphProto graph, string opType, int occurrence = 0) =>
        graph.Nodes.Where(n => n.OpType == opType).ElementAt(occurrence);

    public static TensorProto Initializer(this GraphProto graph, string name) => graph.Initializers.Single(i => i.Name == name);

    /// <summary>Asserts that <paramref name="value"/> is made by a Cast to <paramref name="type"/> and returns the Cast's input.</summary>
    public static string AssertCastTo(this GraphProto graph, string value, OnnxDataType type)
    {
        var cast = graph.Producer(value);
        Assert.Equal("Cast", cast.OpType);
        Assert.Equal((long)type, cast.Attribute("to")!.I);
        return cast.Inputs[0];
    }
}
