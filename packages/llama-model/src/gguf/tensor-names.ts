// HF LLaMA parameter names → llama.cpp's GGUF tensor names (gguf-py's TensorNameMap for the llama architecture).
import { ConfigError } from "@llamats/core";

const TOP_LEVEL: Record<string, string> = {
  "model.embed_tokens.weight": "token_embd.weight",
  "model.norm.weight": "output_norm.weight",
  "lm_head.weight": "output.weight",
};

const IN_LAYER: Record<string, string> = {
  input_layernorm: "attn_norm",
  post_attention_layernorm: "ffn_norm",
  "self_attn.q_proj": "attn_q",
  "self_attn.k_proj": "attn_k",
  "self_attn.v_proj": "attn_v",
  "self_attn.o_proj": "attn_output",
  "mlp.gate_proj": "ffn_gate",
  "mlp.up_proj": "ffn_up",
  "mlp.down_proj": "ffn_down",
};

/** The GGUF name of an HF parameter, e.g. `model.layers.3.mlp.up_proj.weight` → `blk.3.ffn_up.weight`. */
export function ggufTensorName(hfName: string): string {
  const top = TOP_LEVEL[hfName];
  if (top) return top;
  const match = /^model\.layers\.(\d+)\.(.+)\.(weight|bias)$/.exec(hfName);
  const inLayer = match ? IN_LAYER[match[2]] : undefined;
  if (!match || !inLayer) {
    throw new ConfigError(`GGUF export: no llama.cpp tensor name for the parameter "${hfName}"`, { key: hfName });
  }
  return `blk.${match[1]}.${inLayer}.${match[3]}`;
}
