#!/usr/bin/env bash
# Compiles every shim source against a TensorRT include folder, as strictly as the CMake build does,
# without needing TensorRT's libraries: the only check possible on machines that have the headers
# (github NVIDIA/TensorRT, include/) but not the binaries.
#
#   check-headers.sh TRT_INCLUDE_DIR [CUDA_INCLUDE_DIR]
#
# CUDA_INCLUDE_DIR defaults to $CUDA_HOME/include, then /usr/local/cuda/include, then /usr/include.
# Environment: CXX (default g++).
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
    echo "usage: $0 TRT_INCLUDE_DIR [CUDA_INCLUDE_DIR]" >&2
    exit 2
fi

trt_include=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cxx=${CXX:-g++}

if [[ ! -f "$trt_include/NvInferVersion.h" || ! -f "$trt_include/NvInfer.h" || ! -f "$trt_include/NvOnnxParser.h" ]]; then
    echo "FAIL: $trt_include does not hold NvInferVersion.h, NvInfer.h and NvOnnxParser.h" >&2
    exit 1
fi

if [[ $# -eq 2 ]]; then
    cuda_include=$2
else
    cuda_include=""
    for candidate in "${CUDA_HOME:+$CUDA_HOME/include}" /usr/local/cuda/include /usr/include; do
        if [[ -n "$candidate" && -f "$candidate/cuda.h" && -f "$candidate/cuda_runtime_api.h" ]]; then
            cuda_include=$candidate
            break
        fi
    done
    if [[ -z "$cuda_include" ]]; then
        echo "FAIL: no CUDA headers (cuda.h, cuda_runtime_api.h) found; pass CUDA_INCLUDE_DIR" >&2
        exit 1
    fi
fi

version=$(awk '
    /#define (NV_TENSORRT|TRT)_(MAJOR|MINOR|PATCH|BUILD)(_ENTERPRISE)?[ \t]/ { value[$2] = $3 }
    END {
        split("MAJOR MINOR PATCH BUILD", parts, " ")
        out = ""
        for (i = 1; i <= 4; i++) {
            v = value["NV_TENSORRT_" parts[i]]
            if (v ~ /^TRT_/) v = value[v]
            out = out (i > 1 ? "." : "") v
        }
        print out
    }' "$trt_include/NvInferVersion.h")

echo "TensorRT headers: $trt_include (version $version)"
echo "CUDA headers:     $cuda_include"

# /usr/include is already a system folder; naming it again with -isystem reorders the search and
# breaks libstdc++'s #include_next <stdlib.h>.
cuda_flags=()
if [[ "$(cd "$cuda_include" && pwd -P)" != /usr/include ]]; then
    cuda_flags=(-isystem "$cuda_include")
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

status=0
for source in "$here"/src/*.cpp; do
    name=$(basename "$source")
    if "$cxx" -std=c++17 -Wall -Wextra -Wpedantic -Wshadow -Werror -fvisibility=hidden -fPIC \
        -I "$here/include" -isystem "$trt_include" "${cuda_flags[@]}" \
        -c "$source" -o "$work/$name.o" 2>"$work/$name.log"; then
        echo "  OK   $name"
    else
        echo "  FAIL $name"
        sed 's/^/       /' "$work/$name.log"
        status=1
    fi
done

if [[ $status -eq 0 ]]; then
    echo "OK: every shim source compiles without warnings against TensorRT $version"
else
    echo "FAIL: see the errors above (TensorRT $version)"
fi
exit $status
