#!/usr/bin/env bash
# Where the image job's start goes: the job (hybrid decoder, TF32) over the 8,192 JPEGs and over their first
# 1,024, with the job's own timeline (cursor open, first row, last row, end, JIT time) and pace (rows/s between
# the first row and the last).
#   start-cost.sh APP_DIR [LABEL]   APP_DIR: an unpacked BatchScoring (on-device.sh run unpacks one to
#                                   /tmp/gpu-bundle/app/BatchScoring); extra environment applies as given.
set -uo pipefail
app=${1:?an unpacked BatchScoring folder}; label=${2:-$(basename "$app")}
one() {
  echo "== $label $*${DOTNET_TieredPGO:+ DOTNET_TieredPGO=$DOTNET_TieredPGO}${DOTNET_TC_CallCountingDelayMs:+ DOTNET_TC_CallCountingDelayMs=$DOTNET_TC_CallCountingDelayMs}"
  (cd "$app" && timeout 120 ./BatchScoring -i /tmp/imgs -m /tmp/models/resnet50.onnx -o /tmp/out-start.parquet --overwrite \
    --backend OnnxRuntimeCuda --batch-size 128 --decoder gpu "$@" 2>&1) | grep -E "rows=|seconds:|batch_ms|rror" | sed 's/ output=.*//'
}
one
one
one --limit 1024
