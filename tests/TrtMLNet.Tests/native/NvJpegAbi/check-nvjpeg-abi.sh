#!/usr/bin/env bash
# Checks that an nvjpeg.h still has the ABI TrtMLNet's P/Invoke layer was written against: compiles
# nvjpeg_abi.c against it (a changed function signature is a compile error) and compares what it prints
# (struct layout, enum values) with nvjpeg_abi.expected, which came from CUDA 11.8's header.
#   check-nvjpeg-abi.sh [INCLUDE_DIR ...]   default: /usr/include; on the GPU machine:
#   check-nvjpeg-abi.sh /usr/local/cuda-13.0/targets/x86_64-linux/include
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dirs=("$@"); [[ ${#dirs[@]} -gt 0 ]] || dirs=(/usr/include)
# -isystem: the CUDA headers' own warnings are not this check's business (and -Werror would stop it).
flags=(); for d in "${dirs[@]}"; do flags+=(-isystem "$d"); done
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
cc=${CC:-$(command -v gcc || command -v cc || command -v clang || true)}
[[ -n $cc ]] || { echo "nvjpeg ABI: no C compiler (gcc, cc or clang) to build the check with" >&2; exit 2; }
"$cc" -std=c11 -Wall -Wextra -Werror "${flags[@]}" "$here/nvjpeg_abi.c" -o "$out/nvjpeg_abi"
"$out/nvjpeg_abi" > "$out/actual"
grep -h "define NVJPEG_VER_" "${dirs[0]}/nvjpeg.h" | tr -s ' ' | tr '\n' ' '; echo
if diff -u "$here/nvjpeg_abi.expected" "$out/actual"; then
  echo "nvjpeg ABI: same as expected (${dirs[*]})"
else
  echo "nvjpeg ABI: DIFFERS from nvjpeg_abi.expected (${dirs[*]})" >&2; exit 1
fi
