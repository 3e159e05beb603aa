"""Exports the GPU tests' and benchmarks' models with random weights (the GPU machine has no internet).

    python3 export_models.py OUT_DIR

resnet50.onnx: torchvision ResNet-50, input [N,3,224,224] float, output logits [N,1000].
resnet50-fp16.onnx: the same weights exported in float16 (model.half()): input and output float16.
bert-base.onnx: transformers BertModel with bert-base's configuration, inputs input_ids and
attention_mask int64 [batch, sequence], outputs last_hidden_state [batch, sequence, 768] and
pooler_output [batch, 768].
bert-base-eager.onnx: the same with eager attention instead of scaled_dot_product_attention (what FuseAttention fuses).
bert-base-fusable.onnx (only when named): eager attention, the additive mask built from attention_mask as
transformers 4 did ((1 - mask) * -10000, broadcast over heads and queries), and every bias drawn at random as a
trained model's would be: the pattern ONNX Runtime's transformer optimizer fuses into Attention nodes.
BertModel's initialisation sets every bias to zero, and the exporter then shares one zero tensor among them
through Identity nodes, which the optimizer's attention fusion does not follow (it wants the Q, K and V biases
as initializers).
"""
import os
import sys

import torch


def export_resnet50(path):
    import torchvision
    model = torchvision.models.resnet50().eval()
    axes = {"input": {0: "batch"}, "logits": {0: "batch"}}
    torch.onnx.export(model, torch.randn(1, 3, 224, 224), path, input_names=["input"], output_names=["logits"],
                      dynamic_axes=axes, opset_version=17, dynamo=False)
    # The same weights in float16, for models that already take and give float16 tensors.
    half = os.path.join(os.path.dirname(path), "resnet50-fp16.onnx")
    torch.onnx.export(model.half(), torch.randn(1, 3, 224, 224).half(), half, input_names=["input"], output_names=["logits"],
                      dynamic_axes=axes, opset_version=17, dynamo=False)


class Bert(torch.nn.Module):
    """BertModel.forward takes keyword arguments in transformers 5; export needs positional ones."""

    def __init__(self, attention=None, classic_mask=False):
        super().__init__()
        from transformers import BertConfig, BertModel
        config = BertConfig()
        if attention:  # "eager": attention as MatMul, Softmax, MatMul, the pattern ONNX Runtime's optimizer fuses
            config._attn_implementation = attention
        self.model = BertModel(config).eval()
        self.classic_mask = classic_mask
        if classic_mask:
            with torch.no_grad():
                for name, parameter in self.model.named_parameters():
                    if name.endswith("bias"):
                        parameter.normal_(0, 0.02)
        print("bert attention:", getattr(self.model.config, "_attn_implementation", "?"))

    def forward(self, input_ids, attention_mask):
        if self.classic_mask:  # a 4D mask is used as given
            attention_mask = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * -10000.0
        out = self.model(input_ids=input_ids, attention_mask=attention_mask)
        return out.last_hidden_state, out.pooler_output


def export_bert(path, attention=None, classic_mask=False):
    ids = torch.randint(0, 30522, (2, 128), dtype=torch.int64)
    mask = torch.ones(2, 128, dtype=torch.int64)
    axes = {0: "batch", 1: "sequence"}
    torch.onnx.export(Bert(attention, classic_mask), (ids, mask), path, input_names=["input_ids", "attention_mask"],
                      output_names=["last_hidden_state", "pooler_output"],
                      dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes, "pooler_output": {0: "batch"}},
                      opset_version=17, dynamo=False)


if __name__ == "__main__":
    out, only = sys.argv[1], set(sys.argv[2:])  # export_models.py DIR [resnet50.onnx ...]: only those
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    models = [("resnet50.onnx", export_resnet50), ("bert-base.onnx", export_bert),
              ("bert-base-eager.onnx", lambda path: export_bert(path, "eager")),
              ("bert-base-fusable.onnx", lambda path: export_bert(path, "eager", classic_mask=True))]
    named_only = {"bert-base-fusable.onnx"}
    for name, export in models:
        path = os.path.join(out, name)
        if (only and name not in only) or (not only and name in named_only):
            continue
        if not os.path.exists(path):
            export(path)
        print(f"{path}: {os.path.getsize(path) / 2**20:.1f} MiB")
