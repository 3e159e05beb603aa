"""Where ONNX Runtime's time goes: its profiles (TRTMLNET_ORT_PROFILE=<folder>) summed by op type and by
kernel, for the largest profile of each model run. Prints the top entries of each."""
import collections, glob, json, os, sys

for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.json")), key=os.path.getsize, reverse=True)[: int(sys.argv[2]) if len(sys.argv) > 2 else 2]:
    events = json.load(open(path))
    ops, kernels, runs = collections.Counter(), collections.Counter(), 0
    for e in events:
        if e.get("cat") == "Node" and e.get("name", "").endswith("_kernel_time"):
            ops[e["args"].get("op_name", "?")] += e["dur"]
        elif e.get("cat") == "Kernel":
            kernels[e.get("name", "?")[:90]] += e["dur"]
        elif e.get("cat") == "Session" and e.get("name") == "model_run":
            runs += 1
    total = sum(ops.values()) or 1
    print(f"== {os.path.basename(path)}: {runs} runs, {total / 1000 / max(runs, 1):.2f} ms of node time per run")
    for op, us in ops.most_common(15):
        print(f"    {op:28s} {us / total:6.1%}  {us / 1000 / max(runs, 1):7.2f} ms/run")
    for name, us in kernels.most_common(10):
        print(f"    kernel {name:90s} {us / 1000 / max(runs, 1):7.2f} ms/run")
