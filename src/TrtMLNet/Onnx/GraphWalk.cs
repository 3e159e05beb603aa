namespace TrtMLNet.Onnx;

/// <summary>Graph structure the rewrite needs: node order, what subgraphs read from outside, every name in a model.</summary>
internal static class GraphWalk
{
    /// <summary>
    /// The graph's nodes in an order where every value is produced before it is read: the file's own
    /// order when it already is one (ONNX requires it), otherwise the stable topological order, earlier
    /// nodes first. Values no node of the graph produces (inputs, initializers, outer scope) count as ready.
    /// </summary>
    public static List<NodeProto> TopologicalOrder(GraphProto graph)
    {
        var nodes = graph.Nodes;
        var producer = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < nodes.Count; i++)
        {
            foreach (var output in nodes[i].Outputs)
            {
                if (output.Length > 0)
                    producer[output] = i;
            }
        }
        var dependents = new List<int>[nodes.Count];
        var waiting = new int[nodes.Count];
        for (var i = 0; i < nodes.Count; i++)
        {
            dependents[i] = [];
            foreach (var name in nodes[i].Inputs.Concat(OuterReferences(nodes[i])).Distinct())
            {
                if (producer.TryGetValue(name, out var from) && from != i)
                {
                    dependents[from].Add(i);
                    waiting[i]++;
                }
            }
        }
        var ready = new PriorityQueue<int, int>();
        for (var i = 0; i < nodes.Count; i++)
        {
            if (waiting[i] == 0)
                ready.Enqueue(i, i);
        }
        var order = new List<NodeProto>(nodes.Count);
        while (ready.TryDequeue(out var next, out _))
        {
            order.Add(nodes[next]);
            foreach (var dependent in dependents[next])
            {
                if (--waiting[dependent] == 0)
                    ready.Enqueue(dependent, dependent);
            }
        }
        if (order.Count != nodes.Count)
        {
            var stuck = nodes.Where((_, i) => waiting[i] > 0).First();
            throw new InvalidDataException($"The ONNX graph '{graph.Name}' has a cycle: {stuck.Describe()} depends on its own output.");
        }
        return order;
    }

    /// <summary>The names a node's subgraphs (at any depth) read from outside themselves: the node's implicit inputs.</summary>
    public static IReadOnlyCollection<string> OuterReferences(NodeProto node)
    {
        var references = new HashSet<string>(StringComparer.Ordinal);
        foreach (var attribute in node.Attributes)
        {
            foreach (var subgraph in attribute.Subgraphs)
                references.UnionWith(OuterReferences(subgraph));
        }
        return references;
    }

    private static HashSet<string> OuterReferences(GraphProto graph)
    {
        var defined = new HashSet<string>(graph.Inputs.Select(i => i.Name ?? ""), StringComparer.Ordinal);
        defined.UnionWith(graph.Initializers.Select(i => i.Name ?? ""));
        defined.UnionWith(graph.SparseInitializers.Select(i => i.Values?.Name ?? ""));
        defined.UnionWith(graph.Nodes.SelectMany(n => n.Outputs));
        var references = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
        {
            references.UnionWith(node.Inputs.Where(i => i.Length > 0 && !defined.Contains(i)));
            references.UnionWith(OuterReferences(node).Where(r => !defined.Contains(r)));
        }
        references.UnionWith(graph.Outputs.Select(o => o.Name ?? "").Where(o => o.Length > 0 && !defined.Contains(o)));
        return references;
    }

    /// <summary>Makes a node's subgraphs read <paramref name="to"/> where they read the outer value <paramref name="from"/>.</summary>
    public static void RenameOuterReference(NodeProto node, string from, string to)
    {
        foreach (var attribute in node.Attributes)
        {
            foreach (var subgraph in attribute.Subgraphs)
            {
                // Names are unique across scopes in ONNX (SSA), so no inner value shadows the outer one.
                foreach (var inner in subgraph.Nodes)
                {
                    for (var i = 0; i < inner.Inputs.Count; i++)
                    {
                        if (inner.Inputs[i] == from)
                            inner.Inputs[i] = to;
                    }
                    RenameOuterReference(inner, from, to);
                }
                foreach (var output in subgraph.Outputs.Where(o => o.Name == from))
                    output.Name = to;
            }
        }
    }

    /// <summary>Every value and node name in a graph and its subgraphs, so new names can be made unique.</summary>
    public static void CollectNames(GraphProto graph, HashSet<string> names)
    {
        names.UnionWith(graph.Inputs.Select(i => i.Name ?? ""));
        names.UnionWith(graph.Outputs.Select(o => o.Name ?? ""));
        names.UnionWith(graph.ValueInfo.Select(v => v.Name ?? ""));
        names.UnionWith(graph.Initializers.Select(i => i.Name ?? ""));
        foreach (var node in graph.Nodes)
        {
            names.UnionWith(node.Inputs);
            names.UnionWith(node.Outputs);
            if (node.Name is { } name)
                names.Add(name);
            foreach (var subgraph in node.Attributes.SelectMany(a => a.Subgraphs))
                CollectNames(subgraph, names);
        }
    }
}
