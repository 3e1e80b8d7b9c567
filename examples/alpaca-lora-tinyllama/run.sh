#!/usr/bin/env bash
# alpaca-lora (tloen/alpaca-lora finetune.py defaults) on TinyLlama-1.1B with the Stanford Alpaca data, on a GPU.
# Usage: bash run.sh [extra llamats finetune options]   (BACKEND=wasm for a CPU try, MAX_STEPS=20 for a short run)
set -euo pipefail
cd "$(dirname "$0")"
MODEL="${MODEL:-TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T}"
DATA="${DATA:-tatsu-lab/alpaca}"
OUT="${OUT:-./out/tinyllama-alpaca-lora}"
LLAMATS="node ../../packages/cli/dist/bin.js"

$LLAMATS finetune \
  --model "$MODEL" \
  --data "$DATA" \
  --backend "${BACKEND:-webgpu}" \
  --template alpaca \
  --lora-r 8 --lora-alpha 16 --lora-dropout 0.05 --target-modules q_proj,v_proj \
  --batch-size 128 --micro-batch-size 4 \
  --epochs 3 --lr 3e-4 --warmup-steps 100 \
  --cutoff-len 256 --val-set-size 2000 \
  ${MAX_STEPS:+--max-steps "$MAX_STEPS"} \
  --out "$OUT" "$@"

echo
echo "Chat with it:  $LLAMATS chat $MODEL --adapter $OUT"
