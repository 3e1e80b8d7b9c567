#!/usr/bin/env bash
# Stanford Alpaca's generate_instruction.py: seed tasks → a teacher model → new instructions, ROUGE-L dedup (≥ 0.7 dropped).
# Usage: BASE_URL=https://api.openai.com MODEL=gpt-4o-mini OPENAI_API_KEY=… bash run.sh
#        or against your own model: llamats serve <model> (another terminal), then BASE_URL=http://127.0.0.1:8000 bash run.sh
set -euo pipefail
cd "$(dirname "$0")"
LLAMATS="node ../../packages/cli/dist/bin.js"
SEED_TASKS="${SEED_TASKS:-../pretrain-tiny-base/data/seed_tasks.jsonl}"
OUT="${OUT:-./out/regen.json}"
mkdir -p "$(dirname "$OUT")"

$LLAMATS data generate \
  --base-url "${BASE_URL:-http://127.0.0.1:8000}" \
  --model "${MODEL:-default}" \
  --seed-tasks "$SEED_TASKS" \
  --num-instructions "${NUM_INSTRUCTIONS:-100}" \
  --request-batch-size 5 \
  --temperature 1.0 --top-p 1.0 \
  --out "$OUT" "$@"

$LLAMATS data stats --data "$OUT"
echo
echo "Fine-tune on it:  $LLAMATS finetune --model <base> --data $OUT --out ./out/lora"
