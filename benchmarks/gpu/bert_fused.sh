#!/usr/bin/env bash
# BERT-base FP16 at batch 128 through ApplyTensorRt, in one call: as exported (SDPA attention) and fused by
# ONNX Runtime's transformer optimizer; then each export named in VARIANTS (eager: eager attention;
# fusable: eager attention, transformers 4's additive mask and non-zero biases, which the optimizer fuses into Attention),
# fused the same way; then PyTorch FP16 at the same batch. SETTINGS="FP16,FP16 + fused transformer ops" also runs
# TrtMLNet's own attention fusion (TensorRtOptions.FuseTransformerOps) in the same passes.
set -uo pipefail
# DEBUG=bert-base-fusable.onnx: only say why the optimizer does not fuse that export's attention (its log, the nodes it walks).
if [[ -n ${DEBUG:-} ]]; then
  [[ -f /tmp/models/$DEBUG ]] || python3 tests/TrtMLNet.GpuTests/export_models.py /tmp/models $DEBUG 2>&1 | tail -1
  python3 benchmarks/gpu/bert_fusion_debug.py /tmp/models/$DEBUG 2>&1 | grep -iE "==|<-|\[|attention|mask|qk|fail|match|fuse" | grep -v "^INFO:root" | head -150 | tee $OUT/bert-fusion-debug.txt
  exit 0
fi
fuse() {  # fuse SOURCE NAME: /tmp/bert-NAME-fused/bert-base.onnx
  mkdir -p /tmp/bert-$2-fused
  python3 benchmarks/gpu/bert_fused.py $1 /tmp/bert-$2-fused/bert-base.onnx 2>&1 | tail -1
}
bench() {
  echo "== $1"
  timeout ${BENCH_TIMEOUT:-100} bash .gpu/tools/on-device.sh run TrtMLNet.Benchmarks gpu --models $2 --only BERT --batch-sizes ${BATCHES:-128} \
    --settings "${SETTINGS:-FP16}" --passes 2 --min-pass 0.3 2>&1 | grep -E "^\||rows/s|rror|xception" | grep -v cudnn_fe | head -30
}
{
  base=; [[ -f /tmp/models/bert-base.onnx ]] && base=1  # prepare.sh's export; without it only the VARIANTS run
  [[ -n $base ]] && fuse /tmp/models/bert-base.onnx sdpa
  for v in ${VARIANTS:-}; do
    python3 tests/TrtMLNet.GpuTests/export_models.py /tmp/models bert-base-$v.onnx 2>&1 | grep -E "MiB|attention" | tail -2
    fuse /tmp/models/bert-base-$v.onnx $v
  done
  [[ -n $base ]] && bench "as exported" /tmp/models && bench "fused by onnxruntime.transformers" /tmp/bert-sdpa-fused
  for v in ${VARIANTS:-}; do bench "$v export, fused" /tmp/bert-$v-fused; done
  echo "== PyTorch"
  python3 benchmarks/gpu/torch_bert_fp16.py
} 2>&1 | tee $OUT/bert-fused.txt
