#!/usr/bin/env bash
# The GPU tests, with what they measured appended to $OUT/gpu-notes.txt.
set -uo pipefail
export TRTMLNET_GPU_MODELS=/tmp/models TRTMLNET_GPU_NOTES=$OUT/gpu-notes.txt
timeout 540 bash .gpu/tools/on-device.sh run TrtMLNet.GpuTests "$@" 2>&1 | tee $OUT/gpu-tests.log | grep -E "\[FAIL\]|\[SKIP\]|Total:|Assert|Expected|Actual" | head -60
