#!/usr/bin/env bash
# Once per fresh GPU machine: the CUDA provider, the models, the JPEGs.
set -uo pipefail
bash .gpu/tools/on-device.sh stage
nproc; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 tests/TrtMLNet.GpuTests/export_models.py /tmp/models ${MODELS:-} 2>&1 | tail -5  # MODELS=resnet50.onnx: only that one
python3 .gpu/tools/anchors/make_jpegs.py /tmp/imgs 8192 2>&1 | tail -2
ls -la /tmp/models; ls /tmp/imgs | wc -l
