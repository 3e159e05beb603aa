"""What PyTorch runs for the anchors' FP16 cases: its top CUDA kernels by time (torch.profiler), for
ResNet-50 b256 channels-last and BERT-base seq 128 b128, as anchor_torch.py builds them."""
import copy
import torch, torchvision
from torch.profiler import profile, ProfilerActivity

def top(name, fn, x, runs=10):
    with torch.inference_mode():
        for _ in range(5): fn(x)
        torch.cuda.synchronize()
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            for _ in range(runs): fn(x)
            torch.cuda.synchronize()
    events = [e for e in prof.key_averages() if e.device_type == torch.autograd.DeviceType.CUDA]
    total = sum(e.self_device_time_total for e in events) or 1
    print(f"== {name}: {total / 1000 / runs:.2f} ms of kernel time per run")
    for e in sorted(events, key=lambda e: -e.self_device_time_total)[:15]:
        print(f"    {e.key[:100]:100s} {e.self_device_time_total / total:6.1%} {e.self_device_time_total / 1000 / runs:7.2f} ms/run  x{e.count // runs}")

torch.backends.cudnn.benchmark = True
half = torchvision.models.resnet50().eval().cuda().half().to(memory_format=torch.channels_last)
top("resnet50 fp16 channels-last b256", half, torch.randn(256, 3, 224, 224, device="cuda").half().to(memory_format=torch.channels_last))
from transformers import BertConfig, BertModel
bert = BertModel(BertConfig()).eval().cuda().half()
top("bert-base fp16 seq128 b128", lambda i: bert(input_ids=i), torch.randint(0, 30522, (128, 128), device="cuda"))
