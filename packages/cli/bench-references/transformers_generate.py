"""Greedy KV-cache decoding speed of transformers' LlamaForCausalLM.generate(), the peer of `llamats bench generate
--transformers`. Random init from a LlamaConfig of the bench's shape (a speed race: the weights are not llamats'),
fp32, CUDA when available else CPU, batch 1. Prints one JSON line."""
import argparse, json, sys, time

p = argparse.ArgumentParser()
for name in ("dim", "layers", "heads", "kv-heads", "ffn", "vocab", "prompt-tokens", "new-tokens", "repeat"):
    p.add_argument(f"--{name}", type=int, required=True)
p.add_argument("--tie-embeddings", action="store_true")
p.add_argument("--seed", type=int, default=42)
p.add_argument("--device", default=None, help="cuda or cpu (default: cuda when available)")
A = p.parse_args()

import torch  # noqa: E402 (after argparse, so --help works without torch)
import transformers  # noqa: E402
from transformers import LlamaConfig, LlamaForCausalLM  # noqa: E402

device = torch.device(A.device or ("cuda" if torch.cuda.is_available() else "cpu"))
torch.manual_seed(A.seed)
config = LlamaConfig(
    vocab_size=A.vocab, hidden_size=A.dim, intermediate_size=A.ffn, num_hidden_layers=A.layers,
    num_attention_heads=A.heads, num_key_value_heads=A.kv_heads,
    max_position_embeddings=max(1024, A.prompt_tokens + A.new_tokens), rms_norm_eps=1e-5,
    tie_word_embeddings=A.tie_embeddings, bos_token_id=1, eos_token_id=2, pad_token_id=0,
)
# Built on the device directly: a 1.1 B-parameter random init on the CPU alone takes tens of seconds.
with device:
    model = LlamaForCausalLM(config).to(dtype=torch.float32).eval()
# The same kind of prompt as the bench: BOS, then fixed pseudo-random ids (not eos).
g = torch.Generator().manual_seed(A.seed)
rest = torch.randint(3, A.vocab, (A.prompt_tokens - 1,), generator=g)
input_ids = torch.cat([torch.tensor([1]), rest]).unsqueeze(0).to(device)
attention_mask = torch.ones_like(input_ids)


def sync():
    if device.type == "cuda":
        torch.cuda.synchronize()


def generate(new_tokens):
    with torch.inference_mode():
        return model.generate(
            input_ids, attention_mask=attention_mask, max_new_tokens=new_tokens, min_new_tokens=new_tokens,
            do_sample=False, use_cache=True, pad_token_id=0,
        )


generate(min(16, A.new_tokens))  # warm-up: CUDA context, kernels, allocator
if device.type == "cuda":
    torch.cuda.reset_peak_memory_stats()
best = 0.0
for _ in range(A.repeat):
    sync()
    t0 = time.perf_counter()
    out = generate(A.new_tokens)
    sync()
    seconds = time.perf_counter() - t0
    produced = out.shape[1] - input_ids.shape[1]
    if produced != A.new_tokens:
        sys.exit(f"generate() produced {produced} tokens, not {A.new_tokens}")
    best = max(best, produced / seconds)
print(json.dumps({
    "tokensPerS": round(best, 1),
    "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
    "deviceType": device.type,
    "threads": torch.get_num_threads(),
    "torch": torch.__version__,
    "transformers": transformers.__version__,
    "cudaPeakBytes": torch.cuda.max_memory_allocated(device) if device.type == "cuda" else None,
    "dtype": "float32",
    "runs": A.repeat,
    "weights": "random init (LlamaConfig of the same shape; not llamats' weights)",
}))
