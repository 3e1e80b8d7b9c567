#!/usr/bin/env bash
# The one command for the GPU machine, from the repo root (see scripts/device/README.md):
#   bash scripts/device/run.sh [OUTDIR] [--shape tinyllama|tiny|llama7b] [--budget SECONDS] [options]
# Unpacks the carried kit (.device: Node.js, Vulkan loader) and bundle (.device-bundle), then measures LoRA training
# tokens/s with `llamats bench train --backend webgpu` (float32 and bf16 base) and with PyTorch + PEFT on the same GPU
# and the same shape, then greedy decoding with `llamats bench generate --backend webgpu --transformers` (ours and
# transformers' generate(), fp32, KV cache, batch 1, in one call), each under `timeout`, and writes
# OUTDIR/device-bench.json (rewritten after every phase, errors included).
# OUTDIR defaults to $OUT (the device tool's folder), else out/device.
#
# Options:
#   --shape S          tinyllama (default: dim 2048, 22 layers, 32 heads, 4 kv heads, ffn 5632, vocab 32000,
#                      batch 4 x seq 512), tiny (dim 64, 2 layers, vocab 256, batch 2 x seq 16: a test on any
#                      machine), llama7b (dim 4096, 32 layers, ffn 11008: its own call). Env: LLAMATS_DEVICE_SHAPE
#   --phases LIST      train, generate and/or qlora (default train; tiny: train,generate). generate: bench generate
#                      --shape tinyllama beside transformers generate(), best as its own call (--phases generate).
#                      qlora: LoRA on an NF4 base (--quantize nf4 --gradient-checkpointing), batch 1 x --qlora-seq,
#                      for issue #15's peak-memory goal (LLaMA-7B in <= 8 GiB: --shape llama7b --phases qlora)
#   --qlora-seq N      tokens per sequence in the qlora phase (default 512; tiny 16)
#   --budget S         total seconds, setup included (default 500 with both phases, 360 train only, 170
#                      generate only; tiny 240; llama7b 540)
#   --gen-tokens N     new tokens per bench generate run (default 64); --gen-repeat N timed runs (default 2)
#   --steps N          llamats timed steps after its one warm-up (default 3; llama7b 2)
#   --micro-batch N    llamats sequences per forward/backward (default: the whole batch)
#   --torch-runs LIST  dtype:kv_heads,... for torch_lora.py (default: float32 at llamats' kv heads, float32 and
#                      bfloat16 at the shape's kv heads)
#   --no-torch / --no-llamats   skip one side
#   --bundle DIR / --kit DIR    default .device-bundle / .device
#   --python EXE       python with torch (default python3; env PYTHON)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root" || exit 1
start=$SECONDS

shape=${LLAMATS_DEVICE_SHAPE:-tinyllama}
out=${OUT:-}
budget= steps= micro= torch_runs=
phases=${LLAMATS_DEVICE_PHASES:-} gen_tokens=64 gen_repeat=2 qlora_seq=
no_torch=0 no_llamats=0
bundle=.device-bundle kit=.device
python=${PYTHON:-python3}
while (($#)); do
  case $1 in
    --shape) shape=$2; shift 2 ;;
    --budget) budget=$2; shift 2 ;;
    --phases) phases=$2; shift 2 ;;
    --gen-tokens) gen_tokens=$2; shift 2 ;;
    --gen-repeat) gen_repeat=$2; shift 2 ;;
    --qlora-seq) qlora_seq=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --micro-batch) micro=$2; shift 2 ;;
    --torch-runs) torch_runs=$2; shift 2 ;;
    --no-torch) no_torch=1; shift ;;
    --no-llamats) no_llamats=1; shift ;;
    --bundle) bundle=$2; shift 2 ;;
    --kit) kit=$2; shift 2 ;;
    --python) python=$2; shift 2 ;;
    -h|--help) sed -n '2,/^here=/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) out=$1; shift ;;
  esac
done

# gen_cap: the generate phase's seconds (kept back from the training phases when both run): TinyLlama's random init
# (~40 s on the CPU for us), shader compiles, 16 + 2 x 64 tokens, then transformers' import, init and generate().
case $shape in
  tiny) dim=64 layers=2 heads=4 kv=2 ffn=172 vocab=256 batch=2 seq=16 def_steps=3 def_budget=240 torch_cap=60 gen_cap=60 def_phases=train,generate ;;
  tinyllama) dim=2048 layers=22 heads=32 kv=4 ffn=5632 vocab=32000 batch=4 seq=512 def_steps=3 def_budget=360 torch_cap=120 gen_cap=140 def_phases=train ;;
  llama7b) dim=4096 layers=32 heads=32 kv=32 ffn=11008 vocab=32000 batch=4 seq=512 def_steps=2 def_budget=540 torch_cap=150 gen_cap=0 def_phases=train ;;
  *) echo "run.sh: --shape takes tiny, tinyllama or llama7b; got \"$shape\"" >&2; exit 2 ;;
esac
phases=${phases:-$def_phases}
do_train=0 do_generate=0 do_qlora=0
for p in ${phases//,/ }; do
  case $p in
    train) do_train=1 ;;
    generate) do_generate=1 ;;
    qlora) do_qlora=1 ;;
    *) echo "run.sh: --phases takes train, generate and/or qlora (comma-separated); got \"$p\"" >&2; exit 2 ;;
  esac
done
qlora_seq=${qlora_seq:-$([[ $shape == tiny ]] && echo 16 || echo 512)}
if ((do_generate && gen_cap == 0)); then
  echo "run.sh: no generate phase for --shape $shape (its float32 weights alone would be 25 GiB)" >&2; exit 2
fi
if [[ -z $budget && $shape == tinyllama ]]; then
  if ((do_train && do_generate)); then budget=500; elif ((do_generate)); then budget=$((gen_cap + 30)); fi
fi
# The generate phase's seconds, kept back from the training phases.
gen_reserve=$((do_generate ? gen_cap : 0))
budget=${budget:-$def_budget} steps=${steps:-$def_steps} micro=${micro:-$batch}
out=${out:-$root/out/device}
mkdir -p "$out" || exit 1
out=$(cd "$out" && pwd)
work=$(mktemp -d /tmp/llamats-device.XXXXXX)
# Seconds kept back at the end for the last JSON write.
final_reserve=15
left() { echo $((budget - (SECONDS - start) - final_reserve)); }
min() { if (($1 < $2)); then echo "$1"; else echo "$2"; fi; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# Prefixes each line with the seconds since the phase began (the bench's own lines carry no time).
stamp() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -u -c 'import sys, time
t = time.time()
for line in sys.stdin: sys.stdout.write(f"{time.time() - t:7.1f}| {line}"); sys.stdout.flush()'
  else cat; fi
}

# GPU memory in use, sampled by nvidia-smi while a phase runs (the peak covers Dawn's allocations too).
mem_pid=
mem_start() {
  if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 250 > "$work/$1.mem" 2>/dev/null &
    mem_pid=$!
  fi
}
mem_stop() {
  if [[ -n $mem_pid ]]; then kill "$mem_pid" 2>/dev/null; wait "$mem_pid" 2>/dev/null; mem_pid=; fi
}
trap mem_stop EXIT

# run_phase NAME LIMIT CMD...: CMD under `timeout`, its output (stamped) in OUTDIR/NAME.log, how it ended in $work.
run_phase() {
  local name=$1 limit=$2; shift 2
  if ((limit < 5)); then
    echo "skipped: only ${limit}s of the budget left" > "$out/$name.log"
    printf '{"rc": null, "skipped": "only %ss of the budget left"}\n' "$limit" > "$work/$name.phase.json"
    return
  fi
  echo "== $name (timeout ${limit}s): $*" >&2
  local t0 rc
  t0=$(now_ms)
  mem_start "$name"
  { timeout -k 10 "$limit" "$@"; echo $? > "$work/$name.rc"; } 2>&1 | stamp | tee "$out/$name.log" >&2
  mem_stop
  rc=$(cat "$work/$name.rc" 2>/dev/null || echo 255)
  printf '{"rc": %s, "timed_out": %s, "wall_s": %s, "timeout_s": %s}\n' "$rc" "$([[ $rc == 124 || $rc == 137 ]] && echo true || echo false)" \
    "$(awk "BEGIN { printf \"%.2f\", ($(now_ms) - $t0) / 1000 }")" "$limit" > "$work/$name.phase.json"
}

# Writes OUTDIR/device-bench.json from what the phases left in $work; a plain fallback if that fails.
collect() {
  timeout 30 python3 "$here/collect.py" --work "$work" --out "$out/device-bench.json" --status "$1" \
    --meta "{\"shape_name\": \"$shape\", \"dim\": $dim, \"layers\": $layers, \"heads\": $heads, \"kv_heads\": $kv, \"ffn\": $ffn, \"vocab\": $vocab, \"batch\": $batch, \"seq\": $seq, \"steps\": $steps, \"micro_batch\": $micro, \"llamats_kv_heads\": ${llamats_kv:-null}, \"budget_s\": $budget, \"phases\": \"$phases\", \"gen_new_tokens\": $gen_tokens, \"qlora_seq\": $qlora_seq, \"gen_repeat\": $gen_repeat, \"wall_s\": $((SECONDS - start)), \"bundle\": \"$bundle\", \"kit\": \"$kit\"}" \
    2> "$work/collect.err" \
    || printf '{"status": "%s", "error": "collect.py failed: %s"}\n' "$1" "$(tr -d '"\\\n' < "$work/collect.err" | tail -c 400)" > "$out/device-bench.json"
}
collect started

# 1. The kit: Node.js on PATH, the Vulkan loader, VK_DRIVER_FILES (setup.sh from ../shared, else the bundle's copy).
setup=../shared/device/setup.sh
[[ -f $setup ]] || setup=$bundle/setup.sh
t0=$(now_ms)
if [[ ! -f $kit/node.xz ]]; then
  echo "$kit/node.xz is missing: pack it here with bash ../shared/device/pack.sh $kit and carry $kit" > "$work/setup.error"
elif [[ ! -f $setup ]]; then
  echo "no setup.sh: neither ../shared/device/setup.sh nor $bundle/setup.sh (run scripts/device/bundle.mjs)" > "$work/setup.error"
else
  # shellcheck source=/dev/null
  source "$setup" "$kit" > "$out/setup.log" 2>&1 || echo "setup.sh failed: $(tail -n 3 "$out/setup.log")" > "$work/setup.error"
fi
# The bundle runs from a copy in $work, where Dawn (carried xz-compressed) is unpacked: the carried folder stays
# as it was (unpacked in place, it would no longer fit the 64 MiB that travels).
run_bundle=$work/bundle
if [[ ! -f $bundle/bin.mjs ]]; then
  echo "$bundle/bin.mjs is missing: run node scripts/device/bundle.mjs here and carry $bundle" >> "$work/setup.error"
else
  dawn=$run_bundle/node_modules/webgpu/dist/linux-x64.dawn.node
  { cp -r "$bundle" "$run_bundle" && xz -dc "$dawn.xz" > "$dawn" && rm "$dawn.xz"; } 2>> "$work/setup.error"
fi
{
  echo "node=$(command -v node || echo none) $(node --version 2>/dev/null)"
  echo "python=$(command -v "$python" || echo none)"
  echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-}"
  echo "gpu=$(timeout 10 nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -n 1)"
  echo "setup_s=$(awk "BEGIN { printf \"%.2f\", ($(now_ms) - $t0) / 1000 }")"
} > "$work/setup.txt"
cp "$bundle/bundle-info.json" "$work/" 2>/dev/null
collect setup

cli=(node "$run_bundle/bin.mjs")
llamats_kv=$heads
if ((!no_llamats)); then
  # 2. Which adapter Dawn picks, and the versions (llamats env).
  run_phase env "$(min 60 "$(left)")" "${cli[@]}" env --backend webgpu --json
  # bench train has no --kv-heads yet: it builds kv = heads (MHA). Use the option once it exists.
  if timeout 30 "${cli[@]}" bench train --help 2>/dev/null | grep -q -- '--kv-heads'; then llamats_kv=$kv; fi
  collect env
fi

# PEFT's lora_dropout on both sides (alpaca-lora's 0.05, as ../shared/bench/torch_gpu_lora.py measured the anchors).
lora_dropout=0.05

# Seconds left to the training phases: the generate phase's share is kept back.
train_left() { echo $(($(left) - gen_reserve)); }

# 3. PyTorch + PEFT first (quick, and a GPU left in a bad state by Dawn cannot spoil it).
if ((do_train && !no_torch)); then
  if [[ -z $torch_runs ]]; then
    torch_runs=float32:$llamats_kv
    [[ $kv != "$llamats_kv" ]] && torch_runs+=,float32:$kv
    torch_runs+=,bfloat16:$kv
  fi
  llamats_floor=$((no_llamats ? 0 : 90))
  run_phase torch "$(min "$torch_cap" $(($(train_left) - llamats_floor)))" env PYTHONUNBUFFERED=1 "$python" "$here/torch_lora.py" \
    --dim "$dim" --layers "$layers" --heads "$heads" --ffn "$ffn" --vocab "$vocab" --batch "$batch" --seq "$seq" \
    --runs "$torch_runs" --lora-dropout "$lora_dropout" --out "$work/torch.json"
  collect torch
fi

# 4. llamats on WebGPU: text output, whose per-step lines survive a timeout (--json prints only at the end). A float32
# base, then a bf16 base (--base-dtype bfloat16: the frozen weights packed two a word, widened inside the matmul);
# the LLaMA-7B shape runs the bf16 base only (its float32 weights alone are 25 GiB).
if ((do_train && !no_llamats)); then
  kv_arg=()
  ((llamats_kv == kv && kv != heads)) && kv_arg=(--kv-heads "$kv")
  bench=("${cli[@]}" bench train --backend webgpu --no-torch --dim "$dim" --layers "$layers" --heads "$heads"
    "${kv_arg[@]}" --ffn "$ffn" --vocab "$vocab" --batch "$batch" --seq "$seq" --micro-batch "$micro" --steps "$steps" --lora-dropout "$lora_dropout")
  if [[ $shape != llama7b ]]; then
    run_phase llamats $(($(train_left) / 2)) "${bench[@]}"
    collect llamats
  fi
  # LLaMA-7B's goal is memory (a bf16 base in <= 24 GiB): it runs with gradient checkpointing, as a user short of
  # memory would; TinyLlama's goals are speed against PyTorch, which checkpoints nothing.
  bf16_extra=()
  [[ $shape == llama7b ]] && bf16_extra=(--gradient-checkpointing)
  run_phase llamats_bf16 "$(train_left)" "${bench[@]}" --base-dtype bfloat16 "${bf16_extra[@]}"
  collect llamats_bf16
fi

# 4b. QLoRA: LoRA on an NF4 base with gradient checkpointing, batch 1 (issue #15: LLaMA-7B's step in <= 8 GiB). Its
# peak GPU bytes (every buffer the device creates) are in the bench's lines; nvidia-smi's sample covers Dawn's too.
if ((do_qlora && !no_llamats)); then
  qlora_kv=()
  ((llamats_kv == kv && kv != heads)) && qlora_kv=(--kv-heads "$kv")
  qlora=("${cli[@]}" bench train --backend webgpu --no-torch --dim "$dim" --layers "$layers" --heads "$heads"
    "${qlora_kv[@]}" --ffn "$ffn" --vocab "$vocab" --batch 1 --micro-batch 1 --seq "$qlora_seq" --steps "$steps" --quantize nf4
    --gradient-checkpointing)
  run_phase llamats_qlora "$(($(left) - gen_reserve))" "${qlora[@]}"
  collect llamats_qlora
fi

# 5. Greedy decoding, batch 1: ours on WebGPU and transformers' generate() (fp32, KV cache, CUDA) in one bench call,
# same shape (random init on both sides), same prompt length and new tokens; --json, parsed by collect.py. The bundle
# does not hold bench-references/, so the script is given from the tracked tree.
if ((do_generate && !no_llamats)); then
  if [[ $shape == tinyllama ]]; then gen_shape=(--shape tinyllama)
  else gen_shape=(--dim "$dim" --layers "$layers" --heads "$heads" --kv-heads "$kv" --ffn "$ffn" --vocab "$vocab"); fi
  gen_peer=(--transformers --python "$python" --transformers-script "$root/packages/cli/bench-references/transformers_generate.py")
  ((no_torch)) && gen_peer=()
  run_phase generate "$(left)" "${cli[@]}" bench generate --backend webgpu "${gen_shape[@]}" "${gen_peer[@]}" \
    --new-tokens "$gen_tokens" --repeat "$gen_repeat" --json
fi

collect done
rm -rf "$work"
cat "$out/device-bench.json"
