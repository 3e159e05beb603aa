"""Fuses a BERT ONNX model with ONNX Runtime's transformer optimizer, as a user would before ApplyTensorRt
(attention, SkipLayerNormalization, EmbedLayerNormalization, bias GELU), and says which fusions applied.
Pure graph rewriting: the CPU-only onnxruntime package of the GPU machine does it.

    python3 bert_fused.py IN.onnx OUT.onnx
"""
import sys

from onnxruntime.transformers import optimizer

source, target = sys.argv[1], sys.argv[2]
model = optimizer.optimize_model(source, model_type="bert", num_heads=12, hidden_size=768, opt_level=0, use_gpu=True)
print(f"{source} -> {target}: {model.get_fused_operator_statistics()}", flush=True)
model.save_model_to_file(target)
