#!/usr/bin/env bash
# The job over 8,192 JPEGs (ResNet-50, batch 128, as the anchors), then the engine alone at batch 128 (when an
# earlier call of this lease unpacked TrtMLNet.Benchmarks), then the anchors on the same folder
# (COMPILE=1: anchor_torch.py with torch.compile too). QUICK=1: the default job (hybrid), the hardware engine and the CPU-decoding job only.
set -uo pipefail
job() {
  local name=$1; shift
  echo "== job $name: $*"
  timeout 120 bash .gpu/tools/on-device.sh run BatchScoring -i /tmp/imgs -m /tmp/models/resnet50.onnx -o /tmp/out-$name.parquet --overwrite \
    --backend OnnxRuntimeCuda --batch-size 128 "$@" 2>&1 | grep -E "rows=|seconds:|batch_ms|error" | tail -5
}
bench=/tmp/gpu-bundle/app/TrtMLNet.Benchmarks/TrtMLNet.Benchmarks
{
  job gpu-decode --decoder gpu
  echo "== job gpu-decode-memory: --decoder gpu --memory-report (the lines of the memory table)"
  timeout 120 bash .gpu/tools/on-device.sh run BatchScoring -i /tmp/imgs -m /tmp/models/resnet50.onnx -o /tmp/out-memory.parquet --overwrite \
    --backend OnnxRuntimeCuda --batch-size 128 --decoder gpu --memory-report 2>&1 | grep -E "rows=|image decoders|Pinned host|Lanes \(IO|Total, shared|Measured"
  [[ -n ${QUICK:-} ]] && { job gpu-decode-engine --decoder gpu --gpu-jpeg hardwareengine; job cpu-decode --decoder cpu; exit 0; }
  # The hybrid decoder (auto on 16 cores: Huffman on the CPU's cores, beside the engine) against the hardware
  # engine, whose batched call waits for the whole device (lanes take turns, Execution/DeviceTurn.cs).
  job gpu-decode-engine --decoder gpu --gpu-jpeg hardwareengine
  job gpu-decode-3-lanes --decoder gpu --concurrency 3
  job gpu-decode-read-ahead-4 --decoder gpu --read-ahead 4
  job gpu-decode-again --decoder gpu
  job gpu-decode-fp16 --decoder gpu --precision fp16
  job gpu-decode-fp16-engine --decoder gpu --precision fp16 --gpu-jpeg hardwareengine
  job gpu-decode-fp16-3-lanes --decoder gpu --precision fp16 --concurrency 3
  job cpu-decode --decoder cpu
  if [[ -x $bench ]]; then
    echo "== the engine alone, ResNet-50 batch 128 (TrtMLNet.Benchmarks gpu: raw engine beside ApplyTensorRt)"
    mkdir -p /tmp/resnet-only && ln -sf /tmp/models/resnet50.onnx /tmp/resnet-only/resnet50.onnx
    (cd $(dirname $bench) && timeout 150 ./TrtMLNet.Benchmarks gpu --models /tmp/resnet-only --only ResNet --batch-sizes 128 \
      --settings "TF32,FP16" --passes 2 --min-pass 1 2>&1 | grep -E "^\||img|rows/s|rror" | grep -v cudnn_fe | head -20)
  fi
  echo "== anchor_gpudecode.py"; timeout 150 python3 .gpu/tools/anchors/anchor_gpudecode.py /tmp/imgs
  # With --compile it is also the PyTorch side of bench.sh when the two run back to back on one machine.
  echo "== anchor_torch.py --compile /tmp/imgs"; timeout 240 python3 .gpu/tools/anchors/anchor_torch.py ${COMPILE:+--compile} /tmp/imgs
} 2>&1 | tee $OUT/image-job.txt
