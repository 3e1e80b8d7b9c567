#!/usr/bin/env bash
# Stanford Alpaca train.py's hyperparameters (LLaMA-7B row of its README): full fine-tuning, every weight trains.
# Usage: bash run.sh [extra llamats finetune options]
set -euo pipefail
cd "$(dirname "$0")"
MODEL="${MODEL:-TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T}"
DATA="${DATA:-tatsu-lab/alpaca}"
OUT="${OUT:-./out/alpaca-full}"
LLAMATS="node ../../packages/cli/dist/bin.js"

$LLAMATS finetune \
  --model "$MODEL" \
  --data "$DATA" \
  --backend "${BACKEND:-webgpu}" \
  --full \
  --template stanford_alpaca \
  --batch-size 128 --micro-batch-size "${MICRO_BATCH:-4}" \
  --epochs 3 --lr 2e-5 --weight-decay 0 \
  --warmup-ratio 0.03 --lr-scheduler cosine \
  --cutoff-len 512 \
  ${MAX_STEPS:+--max-steps "$MAX_STEPS"} \
  --out "$OUT" "$@"

echo
echo "Chat with it:  $LLAMATS chat $OUT"
