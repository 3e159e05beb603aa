#!/usr/bin/env bash
# ApplyTensorRt against the raw engine at each precision, nvJPEG alone, and PyTorch beside them.
set -uo pipefail
app="bash .gpu/tools/on-device.sh run TrtMLNet.Benchmarks"
timeout 300 $app gpu --models /tmp/models --only ${ONLY:-ResNet} --batch-sizes ${BATCHES:-32,128,256} --passes 2 --min-pass 1 2>&1 | tee $OUT/gpu-benchmark.md | tail -12
timeout 60 $app nvjpeg --folder /tmp/imgs --passes 3 --lanes 2 2>&1 | tee $OUT/nvjpeg-benchmark.md | tail -8
timeout 200 python3 .gpu/tools/anchors/anchor_torch.py --compile 2>&1 | tee $OUT/anchor-torch.txt
