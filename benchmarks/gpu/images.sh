#!/usr/bin/env bash
# The job over 8,192 JPEGs (ResNet-50 TF32, batch 128, as the anchors), then the anchors on the same folder
# (COMPILE=1: anchor_torch.py with torch.compile too).
set -uo pipefail
job() {
  local name=$1; shift
  echo "== job $name: $*"
  timeout 120 bash .gpu/tools/on-device.sh run BatchScoring -i /tmp/imgs -m /tmp/models/resnet50.onnx -o /tmp/out-$name.parquet --overwrite \
    --backend OnnxRuntimeCuda --batch-size 128 "$@" 2>&1 | grep -E "rows=|batch_ms|error" | tail -4
}
{
  job gpu-decode --decoder gpu
  [[ -n ${QUICK:-} ]] && { job cpu-decode --decoder cpu; exit 0; }
  job gpu-decode-3-lanes --decoder gpu --concurrency 3
  job gpu-decode-4-lanes --decoder gpu --concurrency 4
  job gpu-decode-fp16-4-lanes --decoder gpu --precision fp16 --concurrency 4
  job cpu-decode --decoder cpu
  job gpu-decode-fp16 --decoder gpu --precision fp16
  echo "== anchor_gpudecode.py"; timeout 150 python3 .gpu/tools/anchors/anchor_gpudecode.py /tmp/imgs
  # With --compile it is also the PyTorch side of bench.sh when the two run back to back on one machine.
  echo "== anchor_torch.py --compile /tmp/imgs"; timeout 240 python3 .gpu/tools/anchors/anchor_torch.py ${COMPILE:+--compile} /tmp/imgs
} 2>&1 | tee $OUT/image-job.txt
