#!/usr/bin/env bash
# Regenerates resize_kernels.ptx from resize_kernels.cu; run it after any change to the .cu and commit both.
# compute_70 PTX: the driver JIT-compiles it for the GPU at hand (Volta and later, Hopper included), so one
# file serves every GPU. Needs nvcc (CUDA 11.8 or later); TrtMLNet itself never runs nvcc.
# nvcc 11.8 refuses gcc 12 as its host compiler (Debian 12's default): clang 14 is used where it is installed,
# or set NVCC_CCBIN to a compiler nvcc accepts.
set -euo pipefail
cd "$(dirname "$0")"
ccbin=${NVCC_CCBIN:-}
if [[ -z $ccbin ]] && command -v clang-14 >/dev/null && ! nvcc -E -x cu /dev/null -o /dev/null 2>/dev/null; then
  ccbin=clang-14
fi
nvcc ${ccbin:+-ccbin "$ccbin"} -ptx -arch=compute_70 -O3 -o resize_kernels.ptx resize_kernels.cu
echo "wrote $(pwd)/resize_kernels.ptx ($(nvcc --version | tail -1))"
