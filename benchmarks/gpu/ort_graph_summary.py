"""What ONNX Runtime made of a model: op types by domain, and where it copies between host and device.
Reads the graphs written with TRTMLNET_ORT_OPTIMIZED_GRAPHS=<folder>; prints one summary per file."""
import collections, glob, os, sys
import onnx

for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.onnx"))):
    model = onnx.load(path, load_external_data=False)
    graph = model.graph
    ops = collections.Counter(f"{n.domain or 'ai.onnx'}:{n.op_type}" for n in graph.node)
    producers = {o: n for n in graph.node for o in n.output}
    consumers = collections.defaultdict(list)
    for n in graph.node:
        for i in n.input:
            consumers[i].append(n)
    print(f"== {os.path.basename(path)}: {len(graph.node)} nodes, inputs {[i.name for i in graph.input]}")
    print("   ", ", ".join(f"{k} {v}" for k, v in ops.most_common()))
    copies = [n for n in graph.node if n.op_type.startswith("Memcpy")]
    for n in copies[:12]:
        source = producers.get(n.input[0])
        readers = consumers.get(n.output[0], [])
        print(f"    {n.op_type}: {source.op_type + ' ' + source.name if source else n.input[0]} -> {[r.op_type + ' ' + r.name for r in readers][:3]}")
