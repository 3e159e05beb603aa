#!/usr/bin/env bash
# TrtMLNet.Serving's PredictionPool against ML.NET's PredictionEngine on the GPU, in process: the pool's
# model in FP32 (TF32) beside the baseline, then in FP16, then FP16 with CUDA graphs, all with the engine's
# BatchBuckets (BUCKETS=, empty for none: every batch padded to the engine batch of 64). The baseline runs in
# the TF32 call and again in the FP16-with-graphs call, so each ratio is measured side by side in one process.
set -uo pipefail
buckets=${BUCKETS-1,2,4,8,16,32}
run() {
  timeout 300 bash .gpu/tools/on-device.sh run TrtMLNet.Serving.Benchmarks --model resnet50 --models-folder /tmp/models \
    --backend OnnxRuntimeCuda --device 0 --engine-batch 64 --max-batch 64 --concurrent-batches ${CONCURRENT:-3} --clients 1,16,64,256 --duration ${DURATION:-10} --warmup 3 \
    ${buckets:+--buckets $buckets} "$@" 2>&1
}
{ run; echo; run --precision Fp16 --baselines ,; echo; run --precision Fp16 --cuda-graphs; } | tee $OUT/serving-gpu.md | grep -v "W:onnx" | tail -60
