#!/usr/bin/env bash
# BERT-base FP16 at batch 128 through ApplyTensorRt, in one call: as exported (SDPA attention) and fused by
# ONNX Runtime's transformer optimizer (EAGER=1: also exported with eager attention, then fused); then
# PyTorch FP16 at the same batch. Needs prepare.sh's /tmp/models/bert-base.onnx.
set -uo pipefail
mkdir -p /tmp/bert-sdpa-fused /tmp/bert-eager-fused
python3 benchmarks/gpu/bert_fused.py /tmp/models/bert-base.onnx /tmp/bert-sdpa-fused/bert-base.onnx 2>&1 | tail -2
if [[ -n ${EAGER:-} ]]; then
  python3 tests/TrtMLNet.GpuTests/export_models.py /tmp/models bert-base-eager.onnx 2>&1 | grep -E "MiB|attention" | tail -3
  python3 benchmarks/gpu/bert_fused.py /tmp/models/bert-base-eager.onnx /tmp/bert-eager-fused/bert-base.onnx 2>&1 | tail -2
fi
bench() {
  echo "== $1"
  timeout ${BENCH_TIMEOUT:-100} bash .gpu/tools/on-device.sh run TrtMLNet.Benchmarks gpu --models $2 --only BERT --batch-sizes ${BATCHES:-128} \
    --settings FP16 --passes 2 --min-pass 0.3 2>&1 | grep -E "^\||rows/s|rror|xception" | grep -v cudnn_fe | head -12
}
{
  bench "as exported" /tmp/models
  bench "fused by onnxruntime.transformers" /tmp/bert-sdpa-fused
  [[ -n ${EAGER:-} ]] && bench "eager attention, fused" /tmp/bert-eager-fused
  echo "== PyTorch"
  python3 - <<'PY'
import time, torch
from transformers import BertConfig, BertModel
m = BertModel(BertConfig()).eval().cuda().half()
ids = torch.randint(0, 30522, (128, 128), device="cuda")
with torch.inference_mode():
    for _ in range(5): m(input_ids=ids)
    torch.cuda.synchronize(); t = time.perf_counter()
    for _ in range(30): m(input_ids=ids)
    torch.cuda.synchronize()
print(f"bert-base seq128 torch b128 fp16: {30 * 128 / (time.perf_counter() - t):.0f} rows/s")
PY
} 2>&1 | tee $OUT/bert-fused.txt
