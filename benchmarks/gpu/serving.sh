#!/usr/bin/env bash
# TrtMLNet.Serving's PredictionPool against ML.NET's PredictionEngine on the GPU, in process: the pool's
# model in FP32 (TF32) beside the baseline, then in FP16 alone.
set -uo pipefail
run() {
  timeout 300 bash .gpu/tools/on-device.sh run TrtMLNet.Serving.Benchmarks --model resnet50 --models-folder /tmp/models \
    --backend OnnxRuntimeCuda --device 0 --engine-batch 64 --max-batch 64 --clients 1,16,64,256 --duration ${DURATION:-10} --warmup 3 "$@" 2>&1
}
{ run; echo; run --precision Fp16 --baselines ,; } | tee $OUT/serving-gpu.md | grep -v "W:onnx" | tail -40
