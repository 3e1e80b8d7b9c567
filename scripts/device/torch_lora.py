"""PyTorch + PEFT LoRA training throughput: the anchor that scripts/device/run.sh measures beside `llamats bench train`.

Same method as ../shared/bench/torch_gpu_lora.py (transformers LlamaForCausalLM with sdpa attention, PEFT LoRA r=8 /
alpha 16 on q_proj,v_proj, AdamW lr 3e-4, 2 warm-up steps, then timed steps), but for ONE shape given by arguments
and several runs (dtype x kv heads), with each result written to --out as soon as it is measured (so a timeout keeps
what was done). torch_gpu_lora.py takes no arguments and runs six fixed shapes, too long for a 6-minute slot.

Without CUDA it runs on the CPU (tiny shapes, to test the script); without transformers/peft it falls back to a
plain-torch LLaMA (impl "plain-torch") so that the wrapper can still be tested on a machine with only torch.

  python3 torch_lora.py --dim 2048 --layers 22 --heads 32 --ffn 5632 --vocab 32000 --batch 4 --seq 512 \
      --runs float32:32,float32:4,bfloat16:4 --out torch.json
"""
import argparse, json, math, os, platform, sys, time, traceback

p = argparse.ArgumentParser()
for name, default in [("dim", 2048), ("layers", 22), ("heads", 32), ("ffn", 5632), ("vocab", 32000), ("batch", 4), ("seq", 512), ("steps", 6), ("warmup", 2), ("r", 8)]:
    p.add_argument(f"--{name}", type=int, default=default)
p.add_argument("--runs", default="float32:32,float32:4,bfloat16:4", help="comma-separated dtype:kv_heads; dtype float32 | tf32 | bfloat16")
p.add_argument("--lora-dropout", type=float, default=0.05, help="PEFT's lora_dropout (torch_gpu_lora.py and llamats bench train: 0.05)")
p.add_argument("--out", required=True)
A = p.parse_args()

res = {"impl": None, "python": platform.python_version(), "args": vars(A), "runs": {}}


def save():
    tmp = A.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(res, f, indent=1)
    os.replace(tmp, A.out)


try:
    import torch
except Exception as e:  # recorded, then the caller's JSON says why there is no torch side
    res["error"] = f"import torch failed: {e!r}"
    save()
    sys.exit(1)

cuda = torch.cuda.is_available()
dev = torch.device("cuda" if cuda else "cpu")
res.update(torch=torch.__version__, cuda=torch.version.cuda, device=torch.cuda.get_device_name(0) if cuda else f"cpu ({platform.processor() or platform.machine()})")
try:
    import transformers, peft
    from transformers import LlamaConfig, LlamaForCausalLM
    from peft import LoraConfig, get_peft_model
    res.update(impl="transformers+peft", transformers=transformers.__version__, peft=peft.__version__)
except Exception as e:
    res.update(impl="plain-torch", hf_error=repr(e)[:300])
save()


def plain_model(kv):
    """A LLaMA in plain torch (RMSNorm, RoPE, GQA, SwiGLU) with LoRA on q and v: only for machines without transformers."""
    import torch.nn as nn, torch.nn.functional as F
    D, H, hd = A.dim, A.heads, A.dim // A.heads

    class RMS(nn.Module):
        def __init__(s): super().__init__(); s.w = nn.Parameter(torch.ones(D))
        def forward(s, x): return s.w * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6)

    class LoRA(nn.Module):
        def __init__(s, base):
            super().__init__(); s.base = base; s.drop = nn.Dropout(A.lora_dropout)
            s.A = nn.Parameter(torch.randn(A.r, base.in_features) / math.sqrt(base.in_features)); s.B = nn.Parameter(torch.zeros(base.out_features, A.r))
        def forward(s, x): return s.base(x) + (s.drop(x) @ s.A.t() @ s.B.t()) * (16 / A.r)

    def rope(x, cos, sin):
        x1, x2 = x[..., : hd // 2], x[..., hd // 2:]
        return x * cos + torch.cat((-x2, x1), -1) * sin

    class Block(nn.Module):
        def __init__(s):
            super().__init__(); s.n1, s.n2 = RMS(), RMS()
            s.q = LoRA(nn.Linear(D, D, bias=False)); s.k = nn.Linear(D, kv * hd, bias=False); s.v = LoRA(nn.Linear(D, kv * hd, bias=False)); s.o = nn.Linear(D, D, bias=False)
            s.g, s.u, s.d = nn.Linear(D, A.ffn, bias=False), nn.Linear(D, A.ffn, bias=False), nn.Linear(A.ffn, D, bias=False)
        def forward(s, x, cos, sin, mask):
            B, T, _ = x.shape; y = s.n1(x)
            q = rope(s.q(y).view(B, T, H, hd).transpose(1, 2), cos, sin)
            k = rope(s.k(y).view(B, T, kv, hd).transpose(1, 2), cos, sin).repeat_interleave(H // kv, 1)
            v = s.v(y).view(B, T, kv, hd).transpose(1, 2).repeat_interleave(H // kv, 1)
            att = ((q @ k.transpose(-2, -1)) / math.sqrt(hd)).masked_fill(mask, float("-inf")).softmax(-1)
            x = x + s.o((att @ v).transpose(1, 2).reshape(B, T, D)); y = s.n2(x)
            return x + s.d(F.silu(s.g(y)) * s.u(y))

    class Llama(nn.Module):
        def __init__(s):
            super().__init__(); s.emb = nn.Embedding(A.vocab, D); s.blocks = nn.ModuleList(Block() for _ in range(A.layers)); s.norm = RMS(); s.head = nn.Linear(D, A.vocab, bias=False)
            inv = 1.0 / (10000 ** (torch.arange(0, hd, 2).float() / hd)); fr = torch.outer(torch.arange(A.seq).float(), inv); e = torch.cat((fr, fr), -1)
            s.register_buffer("cos", e.cos()); s.register_buffer("sin", e.sin())
        def forward(s, input_ids, labels):
            T = input_ids.shape[1]; x = s.emb(input_ids); mask = torch.triu(torch.ones(T, T, dtype=torch.bool, device=x.device), 1)
            for b in s.blocks: x = b(x, s.cos[:T].to(x.dtype), s.sin[:T].to(x.dtype), mask)
            logits = s.head(s.norm(x)).float()
            loss = F.cross_entropy(logits[:, :-1].reshape(-1, A.vocab), labels[:, 1:].reshape(-1))
            return type("Out", (), {"loss": loss})()

    m = Llama()
    for n, prm in m.named_parameters(): prm.requires_grad_(".A" in n or ".B" in n)
    return m


def run(dtype_name, kv):
    torch.backends.cuda.matmul.allow_tf32 = dtype_name == "tf32"
    dtype = {"float32": torch.float32, "tf32": torch.float32, "bfloat16": torch.bfloat16}[dtype_name]
    torch.manual_seed(0)
    t_init = time.time()
    base = None
    if res["impl"] == "transformers+peft":
        cfg = LlamaConfig(vocab_size=A.vocab, hidden_size=A.dim, intermediate_size=A.ffn, num_hidden_layers=A.layers, num_attention_heads=A.heads,
                          num_key_value_heads=kv, max_position_embeddings=max(2048, A.seq), attn_implementation="sdpa")
        with dev:
            base = LlamaForCausalLM(cfg).to(dtype)
        model = get_peft_model(base, LoraConfig(r=A.r, lora_alpha=16, lora_dropout=A.lora_dropout, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"))
    else:
        model = plain_model(kv).to(dev, dtype)
    params = [q for q in model.parameters() if q.requires_grad]
    opt = torch.optim.AdamW(params, lr=3e-4)
    ids = torch.randint(0, A.vocab, (A.batch, A.seq), device=dev)
    sync = torch.cuda.synchronize if cuda else (lambda: None)

    def step():
        out = model(input_ids=ids, labels=ids); out.loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
        return out.loss

    for _ in range(A.warmup): step()
    sync(); init_s = time.time() - t_init
    if cuda: torch.cuda.reset_peak_memory_stats()
    t = time.time()
    for _ in range(A.steps): loss = step()
    sync(); dt = (time.time() - t) / A.steps
    r = {"tokens_per_s": A.batch * A.seq / dt, "step_ms": dt * 1000, "loss": float(loss.detach()), "trainable": sum(q.numel() for q in params),
         "init_and_warmup_s": round(init_s, 2), "peak_gib": torch.cuda.max_memory_allocated() / 2**30 if cuda else None}
    del model, base, opt, params
    if cuda: torch.cuda.empty_cache()
    return r


def matmul_tflops(dtype, n=4096, tf32=False):
    """Dense n x n matmul rate: how far from the chip's peak each side's step is (as torch_gpu_lora.py records)."""
    torch.backends.cuda.matmul.allow_tf32 = tf32
    a = torch.randn(n, n, device=dev, dtype=dtype); b = torch.randn(n, n, device=dev, dtype=dtype)
    for _ in range(3): a @ b
    torch.cuda.synchronize(); t = time.time()
    for _ in range(20): a @ b
    torch.cuda.synchronize()
    return round(2 * n ** 3 / ((time.time() - t) / 20) / 1e12, 2)


if cuda:
    try:
        res["matmul_4096_tflops"] = {"float32": matmul_tflops(torch.float32), "tf32": matmul_tflops(torch.float32, tf32=True), "bfloat16": matmul_tflops(torch.bfloat16)}
    except Exception as e:
        res["matmul_4096_tflops"] = {"error": repr(e)[:300]}
    torch.backends.cuda.matmul.allow_tf32 = False
    save()


for spec in [s for s in A.runs.split(",") if s]:
    dtype_name, kv = spec.split(":")
    key = f"{dtype_name}_kv{kv}"
    t = time.time()
    try:
        res["runs"][key] = run(dtype_name, int(kv))
    except Exception:
        res["runs"][key] = {"error": traceback.format_exc()[-800:]}
        if cuda: torch.cuda.empty_cache()
    res["runs"][key]["wall_s"] = round(time.time() - t, 2)
    print(key, json.dumps(res["runs"][key]), flush=True)
    save()
print("TORCH DONE", flush=True)
