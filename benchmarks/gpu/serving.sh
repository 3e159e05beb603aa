#!/usr/bin/env bash
# TrtMLNet.Serving's PredictionPool against ML.NET's PredictionEngine on the GPU, in process.
set -uo pipefail
timeout 300 bash .gpu/tools/on-device.sh run TrtMLNet.Serving.Benchmarks --model resnet50 --models-folder /tmp/models \
  --backend OnnxRuntimeCuda --device 0 --engine-batch 64 --max-batch 64 --clients 1,16,64,256 --duration ${DURATION:-10} --warmup 3 2>&1 | tee $OUT/serving-gpu.md | tail -30
