"""PyTorch's BERT-base in FP16 at batch 128, sequence 128 (input_ids only), timed three times: the figure
bert_fused.sh and bert_attention.sh put beside ApplyTensorRt. Random weights, as export_models.py's."""
import time

import torch
from transformers import BertConfig, BertModel

model = BertModel(BertConfig()).eval().cuda().half()
ids = torch.randint(0, 30522, (128, 128), device="cuda")
with torch.inference_mode():
    for _ in range(5):
        model(input_ids=ids)
    for _ in range(3):
        torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(30):
            model(input_ids=ids)
        torch.cuda.synchronize()
        print(f"bert-base seq128 torch b128 fp16: {30 * 128 / (time.perf_counter() - start):.0f} rows/s", flush=True)
