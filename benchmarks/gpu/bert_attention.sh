#!/usr/bin/env bash
# BERT-base exported with eager attention (prepare.sh with MODELS=bert-base-eager.onnx), FP16 at batch 128
# through ApplyTensorRt and the raw session, without and with TrtMLNet's transformer fusions
# (TensorRtOptions.FuseTransformerOps) in the same alternating passes; then PyTorch FP16 at the same batch.
set -uo pipefail
mkdir -p /tmp/bert-eager && ln -sf /tmp/models/bert-base-eager.onnx /tmp/bert-eager/bert-base.onnx
{
  timeout ${BENCH_TIMEOUT:-150} bash .gpu/tools/on-device.sh run TrtMLNet.Benchmarks gpu --models /tmp/bert-eager --only BERT --batch-sizes ${BATCHES:-128} \
    --settings "FP16,FP16 + fused transformer ops" --passes ${PASSES:-3} --min-pass 0.3 2>&1 | grep -E "^\||rows/s|rror|xception|fused" | grep -v cudnn_fe | head -40
  python3 benchmarks/gpu/torch_bert_fp16.py
} 2>&1 | tee $OUT/bert-attention.txt
