#!/usr/bin/env bash
# Load test of samples/WebApi over HTTP with wrk: the batched pool's endpoint against the baseline endpoint
# (ObjectPool<PredictionEngine>, what PredictionEnginePool does), at 1, 16, 64 and 256 connections, on
# 127.0.0.1 only. Prints a markdown table.
#
#   benchmarks/serving/run-wrk.sh [tabular|image|both] [seconds per run]     (defaults: both, 10; IMAGE_SECONDS: 30)
#   CONNECTIONS="1 16 64 256" PORT=5199 WEBAPI=path/to/WebApi.dll (or a published WebApi executable)
#   WRK=path/to/wrk (where apt-get cannot install it); extra server settings as environment variables,
#   e.g. Models__Image__OnnxFile=/tmp/resnet50.onnx Models__Image__InputTensor=input Models__Image__OutputTensor=logits Models__Image__Device=0
set -euo pipefail
cd "$(dirname "$0")/../.."
which_models=${1:-both}
seconds=${2:-10}
image_seconds=${IMAGE_SECONDS:-$(( seconds > 30 ? seconds : 30 ))}
connections=${CONNECTIONS:-"1 16 64 256"}
port=${PORT:-5199}
url="http://127.0.0.1:$port"
work=$(mktemp -d)
server=""
trap '[[ -n $server ]] && { kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; }; rm -rf "$work"' EXIT

if [[ -z ${WRK:-} ]] && ! command -v wrk >/dev/null; then
  echo "Installing wrk" >&2
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get install -y -qq wrk >/dev/null 2>&1 || { $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq wrk >/dev/null; }
fi

if [[ -z ${WEBAPI:-} ]]; then
  dotnet build samples/WebApi/WebApi.csproj -c Release -nologo -v quiet >&2
  WEBAPI=samples/WebApi/bin/Release/net10.0/WebApi.dll
fi
start=(); [[ $WEBAPI == *.dll ]] && start=(dotnet)
ASPNETCORE_ENVIRONMENT=Production Logging__LogLevel__Default=Warning Models__Folder="$work/models" \
  "${start[@]}" "$WEBAPI" --urls "$url" >"$work/server.log" 2>&1 &
server=$!
echo "Waiting for $url/health/ready (the first start writes the models)" >&2
for _ in $(seq 1 600); do
  curl -fs "$url/health/ready" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.5
done
curl -fs "$url/health/ready" >/dev/null || { echo "The server did not become ready" >&2; cat "$work/server.log" >&2; exit 1; }

# Bodies: a tabular row of 20 features, and a 224x224 PNG (base64) for the image model.
python3 - "$work" <<'PY'
import base64, json, random, struct, sys, zlib
work = sys.argv[1]
random.seed(1)
json.dump({"features": [round(random.uniform(-2, 2), 4) for _ in range(20)]}, open(f"{work}/tabular.json", "w"))
w = h = 224
raw = b"".join(b"\x00" + bytes(v for x in range(w) for v in ((x * 3) % 256, (y * 2) % 256, (x + y) % 256)) for y in range(h))
def chunk(kind, data): return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
json.dump({"imageSource": base64.b64encode(png).decode()}, open(f"{work}/image.json", "w"))
PY

# ms from wrk's "50%   1.23ms" style figures (us, ms or s).
to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'; }

run() {  # name path body connections seconds
  local threads=$(( $4 < 2 ? 1 : 2 ))
  local out
  # A long timeout: on a CPU an image takes tens of ms, and 256 connections queue for seconds (that is latency, not an error).
  out=$(BODY="$3" "${WRK:-wrk}" -t"$threads" -c"$4" -d"$5s" --timeout 120s --latency -s benchmarks/serving/post.lua "$url$2")
  local rps p50 p99 non2xx errors
  rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' <<<"$out"); non2xx=${non2xx:-0}
  errors=$(awk '/Socket errors:/ { gsub(",", ""); print $4 + $6 + $8 + $10 }' <<<"$out"); errors=${errors:-0}
  printf '| %s | %s | %s | %.0f | %s | %s | %s |\n' "$1" "$2" "$4" "$rps" "$p50" "$p99" "$((non2xx + errors))"
}

echo "wrk $("${WRK:-wrk}" -v 2>&1 | head -1 | awk '{print $2}'), ${seconds} s per tabular run and ${image_seconds} s per image run, $(nproc) cores shared by wrk and the server, $(uname -sr)"
echo
echo "| model | endpoint | connections | req/s | p50 ms | p99 ms | errors (non-2xx + socket) |"
echo "|---|---|---:|---:|---:|---:|---:|"
for model in tabular image; do
  [[ $which_models == both || $which_models == "$model" ]] || continue
  if [[ $model == tabular ]]; then pool=/predict; base=/baseline/predict; s=$seconds; else pool=/predict/image; base=/baseline/predict/image; s=$image_seconds; fi
  for c in $connections; do
    run "$model" "$pool" "$work/$model.json" "$c" "$s"
    run "$model" "$base" "$work/$model.json" "$c" "$s"
  done
done
