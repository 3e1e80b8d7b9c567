"""Builds device-bench.json from what scripts/device/run.sh's phases left in its work folder (any of them may be
missing or broken: each side then carries its error text). Standard library only."""
import argparse, json, os, re, time

p = argparse.ArgumentParser()
p.add_argument("--work", required=True)
p.add_argument("--out", required=True)
p.add_argument("--status", required=True)
p.add_argument("--meta", required=True)
A = p.parse_args()
meta = json.loads(A.meta)


def path(name):
    return os.path.join(A.work, name)


def text(name, default=None):
    try:
        with open(path(name), encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return default


def load(name):
    raw = text(name)
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError as e:
        return {"unreadable": f"{name}: {e}", "text": raw[-500:]}


def log_lines(name):
    """Lines of OUTDIR/NAME.log without the stamp; the log sits beside the output JSON."""
    try:
        with open(os.path.join(os.path.dirname(A.out), f"{name}.log"), encoding="utf-8", errors="replace") as f:
            return [re.sub(r"^\s*[\d.]+\| ", "", line.rstrip("\n")) for line in f]
    except OSError:
        return []


def peak_mem(name):
    """(baseline, peak) MiB of GPU memory in use from nvidia-smi samples; None without nvidia-smi."""
    raw = text(f"{name}.mem")
    values = [int(v) for v in re.findall(r"^\s*(\d+)\s*$", raw or "", re.M)]
    return {"baseline_mib": values[0], "peak_mib": max(values), "samples": len(values)} if values else None


def phase(name):
    return load(f"{name}.phase.json")


def errors_in(lines):
    """The lines that say why a command failed: llamats' `llamats …: message`, a Node stack's first line, Python's last."""
    keep = [l for l in lines if re.match(r"^(llamats[^:]*:|Error|TypeError|RangeError|.*Error:|Traceback|error:|warning: (?!WebGPU adapter)|.*Killed)", l.strip())]
    return keep[-8:]


def kv(line):
    return dict(part.split("=", 1) for part in line.split() if "=" in part)


res = {
    "schema": "llamats-device-bench/1",
    "status": A.status,
    "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    "shape_name": meta["shape_name"],
    "shape": {k: meta[k] for k in ("dim", "layers", "heads", "kv_heads", "ffn", "vocab", "batch", "seq")},
    "budget_s": meta["budget_s"],
    "wall_s": meta["wall_s"],
    "bundle": load("bundle-info.json"),
}

setup = {}
for line in (text("setup.txt") or "").splitlines():
    key, _, value = line.partition("=")
    setup[key] = value
if text("setup.error"):
    setup["error"] = text("setup.error").strip()[-1000:]
res["setup"] = setup

# llamats: adapter and versions from `llamats env --json`, speed from the bench's text lines.
env_phase = phase("env")
env_lines = log_lines("env")
env_json = None
if env_lines:
    try:  # env --json prints one pretty JSON object: from the first "{" line to the last "}" line
        first = next(i for i, l in enumerate(env_lines) if l.startswith("{"))
        last = max(i for i, l in enumerate(env_lines) if l.startswith("}"))
        env_json = json.loads("\n".join(env_lines[first:last + 1]))
    except (StopIteration, ValueError):
        env_json = None
STEP = re.compile(r"^\s*(warm-up|step (\d+)): ([\d.]+) s, loss (\S+), (\d+) tokens/s, (\d+) tensors, rss (\d+) MiB(?:, (\d+) GPU dispatches)?(?:, peak GPU ([\d.]+) MiB)?")
common = {"backend": "webgpu"}
if env_json:
    backend = env_json.get("backend", {})
    common["adapter"] = backend.get("adapter")
    common["webgpu"] = backend.get("webgpu")
    common["versions"] = {k: env_json.get(k) for k in ("llamats", "core", "node", "tfjs")}
    bundle = res.get("bundle") or {}
    common["versions"].update(webgpu_dawn=bundle.get("webgpu"), tfjs_backend_webgpu=bundle.get("tfjs_backend_webgpu"))
elif env_phase is not None:
    common["env_error"] = errors_in(env_lines) or env_lines[-5:] or ["llamats env printed nothing"]
common["env_phase"] = env_phase
res["llamats_env"] = common


def bench_part(name, base_dtype, batch=None, seq=None, micro_batch=None):
    """One `llamats bench train` phase (`name`.log): its steps, speed, memory and errors (batch, seq and micro-batch
    default to the shape's)."""
    batch, seq = batch or meta["batch"], seq or meta["seq"]
    if phase(name) is None and not log_lines(name):
        return {"base_dtype": base_dtype, "skipped": "not run (this shape runs the other base dtype, or --no-llamats)"}
    llamats = {
        "base_dtype": base_dtype,
        "kv_heads": meta.get("llamats_kv_heads"),
        "lora": {"r": 8, "alpha": 16, "dropout": 0.05, "targets": ["q_proj", "v_proj"]},
        "batch": batch,
        "seq": seq,
        "micro_batch": micro_batch or meta["micro_batch"],
        "timed_steps": meta["steps"],
    }
    if meta.get("llamats_kv_heads") not in (None, meta["kv_heads"]):
        llamats["kv_heads_note"] = f"bench train has no --kv-heads: llamats ran kv_heads = heads = {meta['llamats_kv_heads']} (MHA), not the shape's {meta['kv_heads']}"
    bench_lines = log_lines(name)
    steps = []
    for line in bench_lines:
        m = STEP.match(line)
        if m:
            loss = float(m.group(4)) if re.match(r"^-?\d+(\.\d+)?$", m.group(4)) else m.group(4)  # "NaN" stays a string
            steps.append({"step": 0 if m.group(1) == "warm-up" else int(m.group(2)), "s": float(m.group(3)), "loss": loss,
                          "tokens_per_s": int(m.group(5)), "tensors": int(m.group(6)), "rss_mib": int(m.group(7)),
                          "gpu_dispatches": int(m.group(8)) if m.group(8) else None,
                          "gpu_peak_mib": float(m.group(9)) if m.group(9) else None})
    llamats["steps"] = steps
    timed = [s for s in steps if s["step"] > 0]
    # "llamats (webgpu, float32 base): 1234 tokens/s (0.45 s a step)"
    final = next((re.search(r"^llamats \([^)]*\): (\d+) tokens/s \(([\d.]+) s a step\)", l) for l in bench_lines if l.startswith("llamats (")), None)
    if timed:
        mean_s = sum(s["s"] for s in timed) / len(timed)
        llamats["tokens_per_s"] = int(final.group(1)) if final else round(batch * seq / mean_s, 1)
        llamats["step_ms"] = round(mean_s * 1000, 1)
        dispatches = [s["gpu_dispatches"] for s in timed if s["gpu_dispatches"] is not None]
        llamats["gpu_dispatches_per_step"] = sum(dispatches) / len(dispatches) if dispatches else None
        llamats["peak_rss_mib"] = max(s["rss_mib"] for s in steps)
        # Every GPU buffer the webgpu device created and had not destroyed, at its most during a timed step (exact,
        # unlike nvidia-smi's sampled whole-process figure below).
        peaks = [s["gpu_peak_mib"] for s in timed if s["gpu_peak_mib"] is not None]
        llamats["gpu_peak_mib"] = max(peaks) if peaks else None
    llamats["complete"] = bool(final)
    start_line = next((l for l in bench_lines if l.startswith("backend ")), None)
    if start_line:
        llamats["started"] = start_line
    # Dawn reports WebGPU validation errors on stderr and the run goes on with wrong results: count them, keep the first.
    validation = [bench_lines[i + 1].strip() for i, l in enumerate(bench_lines[:-1]) if l.strip() == "validation:"]
    if validation:
        llamats["webgpu_validation_errors"] = {"count": len(validation), "first": validation[0][:400]}
    llamats["gpu_memory_nvidia_smi"] = peak_mem(name)
    llamats["phase"] = phase(name)
    if llamats["phase"] is not None and not final:
        other = [l for l in bench_lines if not STEP.match(l)]
        llamats["error"] = errors_in(other) or ([] if timed else other[-8:] or ["llamats bench printed nothing"])
        if llamats["phase"].get("timed_out"):
            llamats["error"].append(f"timed out after {llamats['phase'].get('timeout_s')} s" + (f" with {len(timed)} timed step(s) done" if timed else ""))
    return llamats


res["llamats"] = bench_part("llamats", "float32")
res["llamats_bf16"] = bench_part("llamats_bf16", "bfloat16")
res["llamats_qlora"] = bench_part("llamats_qlora", "nf4", batch=1, seq=meta.get("qlora_seq"), micro_batch=1)
if "skipped" not in res["llamats_qlora"]:
    res["llamats_qlora"]["setting"] = f"--quantize nf4 --gradient-checkpointing, batch 1 x {meta.get('qlora_seq')}"

# PyTorch + PEFT: torch_lora.py's own JSON.
torch = {"script": "scripts/device/torch_lora.py (the method of ../shared/bench/torch_gpu_lora.py, one shape)"}
torch.update(load("torch.json") or {})
torch["phase"] = phase("torch")
torch["gpu_memory_nvidia_smi"] = peak_mem("torch")
if torch["phase"] is not None and (torch["phase"].get("rc") not in (0, None) or "error" in torch or not torch.get("runs")):
    lines = log_lines("torch")
    why = "\n".join((errors_in(lines) or lines)[-8:]) or "torch_lora.py printed nothing"
    if torch["phase"].get("timed_out"):
        why = f"timed out after {torch['phase'].get('timeout_s')} s" + (f" ({why})" if lines else "")
    torch.setdefault("error", why)
res["torch"] = torch

# llamats / torch on the same work (fp32, same kv heads), and against torch's bf16 anchor.
runs = torch.get("runs") or {}
def ratio(ours, key):
    r = runs.get(key) or {}
    return round(ours / r["tokens_per_s"], 4) if ours and r.get("tokens_per_s") else None
fp32, bf16 = res["llamats"].get("tokens_per_s"), res["llamats_bf16"].get("tokens_per_s")
res["ratio"] = {
    f"llamats_fp32_vs_torch_float32_kv{meta.get('llamats_kv_heads')}": ratio(fp32, f"float32_kv{meta.get('llamats_kv_heads')}"),
    f"llamats_fp32_vs_torch_bfloat16_kv{meta['kv_heads']}": ratio(fp32, f"bfloat16_kv{meta['kv_heads']}"),
    f"llamats_bf16_base_vs_torch_bfloat16_kv{meta['kv_heads']}": ratio(bf16, f"bfloat16_kv{meta['kv_heads']}"),
}



def generate_part():
    """The `llamats bench generate --backend webgpu --transformers --json` phase: ours, transformers', the ratio."""
    if phase("generate") is None and not log_lines("generate"):
        return {"skipped": f"not run (phases {meta.get('phases')!r}, or --no-llamats)"}
    lines = log_lines("generate")
    part = {"phase": phase("generate"), "gpu_memory_nvidia_smi": peak_mem("generate"),
            "gpu_memory_note": "nvidia-smi's figure is the whole GPU, llamats and the transformers peer one after the other"}
    report = None
    for line in lines:
        if line.startswith("{") and '"bench":"generate"' in line:
            try:
                report = json.loads(line)
            except ValueError as e:
                part["unreadable"] = f"{e}: {line[:300]}"
    if report is None:
        other = [l for l in lines if not l.startswith("{")]
        part["error"] = errors_in(other) or other[-8:] or ["llamats bench generate printed nothing"]
        if (part["phase"] or {}).get("timed_out"):
            part["error"].append(f"timed out after {part['phase'].get('timeout_s')} s (--json prints only at the end)")
        return part
    peak = report.get("gpuPeakBytes")
    part.update({
        "shape": report.get("shape"),
        "model_shape": report.get("modelShape"),
        "prompt_tokens": report.get("promptTokens"),
        "new_tokens": report.get("newTokens"),
        "decoding": report.get("decoding"),
        "llamats": {
            "backend": report.get("backend"),
            "weights": report.get("weights"),
            "tokens_per_s": report.get("tokensPerS"),
            "cpu_ms_per_token": report.get("cpuMsPerToken"),
            "gpu_dispatches_per_token": report.get("gpuDispatchesPerToken"),
            "gpu_dispatches_first_token": report.get("gpuDispatchesFirstToken"),
            # Every buffer the webgpu device held at once during the best run (weights and KV cache included).
            "gpu_peak_mib": round(peak / 2 ** 20, 1) if isinstance(peak, (int, float)) else None,
            "tensors_leaked": report.get("tensorsLeaked"),
        },
    })
    peer = report.get("transformersSameRun") or {}
    if "tokensPerS" in peer:
        cuda_peak = peer.get("cudaPeakBytes")
        part["transformers"] = {
            "tokens_per_s": peer["tokensPerS"], "device": peer.get("device"), "device_type": peer.get("deviceType"),
            "torch": peer.get("torch"), "transformers": peer.get("transformers"), "dtype": peer.get("dtype"),
            "runs": peer.get("runs"), "weights": peer.get("weights"),
            "cuda_peak_mib": round(cuda_peak / 2 ** 20, 1) if isinstance(cuda_peak, (int, float)) else None,
        }
    else:
        part["transformers"] = {"not_run": peer.get("skipped", "the bench report has no transformersSameRun")}
    # llamats tokens/s over transformers' on the same shape, prompt length and new tokens (random weights each side).
    part["ratio"] = report.get("ratioToTransformers")
    return part


res["generate"] = generate_part()

tmp = A.out + ".tmp"
with open(tmp, "w") as f:
    json.dump(res, f, indent=1)
    f.write("\n")
os.replace(tmp, A.out)
