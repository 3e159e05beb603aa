"""Why ONNX Runtime's transformer optimizer does not fuse a BERT export's attention: prints the optimizer's
debug log about attention, then the first attention block's nodes around its Softmax (each node's op type
and which op types feed it), which is what its pattern matching walks.

    python3 bert_fusion_debug.py MODEL.onnx
"""
import logging
import sys

import onnx
from onnxruntime.transformers import optimizer

path = sys.argv[1]
model = onnx.load(path, load_external_data=False)
nodes = model.graph.node
producer = {o: n for n in nodes for o in n.output}
consumers = {}
for n in nodes:
    for i in n.input:
        consumers.setdefault(i, []).append(n)


def describe(node, depth, indent=""):
    feeds = [producer[i].op_type if i in producer else f"<{i[:30]}>" for i in node.input]
    print(f"{indent}{node.op_type} {node.name[:60]} <- {feeds}")
    if depth > 0:
        for i in node.input:
            if i in producer:
                describe(producer[i], depth - 1, indent + "  ")


softmax = next(n for n in nodes if n.op_type == "Softmax")
print("== upstream of the first Softmax")
describe(softmax, 7)
print("== downstream of the first Softmax")
frontier = [softmax]
for _ in range(6):
    frontier = [c for n in frontier for o in n.output for c in consumers.get(o, [])]
    print([f"{n.op_type}:{n.name[-40:]}" for n in frontier])

print("== optimizer log (attention)")
handler = logging.StreamHandler(sys.stdout)
handler.setLevel(logging.DEBUG)
for name in ("onnxruntime.transformers", "fusion_attention", "fusion_base", ""):
    logging.getLogger(name).setLevel(logging.DEBUG)
logging.getLogger().addHandler(handler)
optimized = optimizer.optimize_model(path, model_type="bert", num_heads=12, hidden_size=768, opt_level=0, use_gpu=True)
print(optimized.get_fused_operator_statistics())
