#!/usr/bin/env bash
# ApplyTensorRt against the raw engine at each precision, nvJPEG alone, and PyTorch beside them.
# ONLY=ResNet|BERT, BATCHES=1,32,128,256, SETTINGS=FP16,... and MIN_PASS narrow the run;
# NVJPEG=0 skips nvJPEG (its overlap probe and its throughput), TORCH=0 skips PyTorch, QUICK=1 skips both.
set -uo pipefail
app="bash .gpu/tools/on-device.sh run TrtMLNet.Benchmarks"
settings=(); [[ -n ${SETTINGS:-} ]] && settings=(--settings "$SETTINGS")
timeout ${BENCH_TIMEOUT:-400} $app gpu --models /tmp/models ${ONLY:+--only $ONLY} --batch-sizes ${BATCHES:-1,32,128,256} --passes 2 --min-pass ${MIN_PASS:-1} "${settings[@]}" 2>&1 \
  | tee $OUT/gpu-benchmark.md | grep -v cudnn_fe | tail -40
[[ -n ${QUICK:-} ]] && exit 0
if [[ ${NVJPEG:-1} == 1 ]]; then
  timeout 60 $app nvjpeg --folder /tmp/imgs --probe-overlap 2>&1 | tee $OUT/nvjpeg-overlap.md | tail -12
  timeout 60 $app nvjpeg --folder /tmp/imgs --passes 3 --lanes 2 2>&1 | tee $OUT/nvjpeg-benchmark.md | tail -8
fi
[[ ${TORCH:-1} == 1 ]] && timeout 200 python3 .gpu/tools/anchors/anchor_torch.py --compile 2>&1 | tee $OUT/anchor-torch.txt
exit 0
