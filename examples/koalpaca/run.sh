#!/usr/bin/env bash
# KoAlpaca (Beomi/KoAlpaca): Korean instructions, LoRA, the "### 질문: … ### 답변:" template.
# Usage: bash run.sh [extra llamats finetune options]
set -euo pipefail
cd "$(dirname "$0")"
MODEL="${MODEL:-beomi/llama-2-ko-7b}"
DATA="${DATA:-beomi/KoAlpaca-v1.1a}"
OUT="${OUT:-./out/koalpaca-lora}"
LLAMATS="node ../../packages/cli/dist/bin.js"

$LLAMATS finetune \
  --model "$MODEL" \
  --data "$DATA" \
  --backend "${BACKEND:-webgpu}" \
  --template koalpaca \
  --lora-r 8 --lora-alpha 16 --lora-dropout 0.05 --target-modules q_proj,v_proj \
  --batch-size 128 --micro-batch-size 4 \
  --epochs 3 --lr 3e-4 --warmup-steps 100 \
  --cutoff-len 512 --val-set-size 1000 \
  ${MAX_STEPS:+--max-steps "$MAX_STEPS"} \
  --out "$OUT" "$@"

echo
echo "Chat with it:  $LLAMATS chat $MODEL --adapter $OUT --template koalpaca"
