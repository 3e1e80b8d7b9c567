// The models the interop tests compare: the fixtures, the fixture with its LoRA merged, and held-back shapes
// (GQA, tied embeddings, Llama 3 RoPE scaling, linear scaling, a byte-level tokenizer) with seeded random weights.
import { LlamaForCausalLM } from "@llamats/llama-model";
import { PeftModel } from "@llamats/peft-lora";
import { loadTokenizer, type Tokenizer } from "@llamats/tokenizer";
import { BYTE_LEVEL_TOKENIZER, DEMO_BASE_MODEL, LLAMA1_TINY, LLAMA1_TINY_LORA } from "./fixtures.js";

export interface ModelCase {
  name: string;
  load: () => Promise<{ model: LlamaForCausalLM; tokenizer: Tokenizer }>;
}

/** SentencePiece models are exported with their tokenizer.model, as llama.cpp's converter reads it. */
const sentencePiece = (dir: string): Promise<Tokenizer> => loadTokenizer(dir, { prefer: "tokenizer.model" });

/** Weights large enough that greedy choices are clear-cut, not float-rounding coin flips. */
const INIT_RANGE = 0.3;

const heldBack = (overrides: Record<string, unknown>): Record<string, unknown> => ({
  model_type: "llama",
  hidden_size: 64,
  intermediate_size: 128,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 4,
  head_dim: 16,
  max_position_embeddings: 512,
  rms_norm_eps: 1e-5,
  initializer_range: INIT_RANGE,
  bos_token_id: 1,
  eos_token_id: 2,
  ...overrides,
});

export const MODEL_CASES: ModelCase[] = [
  {
    name: "llama1-tiny",
    load: async () => ({
      model: await LlamaForCausalLM.fromPretrained(LLAMA1_TINY),
      tokenizer: await sentencePiece(LLAMA1_TINY),
    }),
  },
  {
    name: "llama1-tiny + llama1-tiny-lora merged",
    load: async () => {
      const base = await LlamaForCausalLM.fromPretrained(LLAMA1_TINY);
      const peft = await PeftModel.fromPretrained(base, LLAMA1_TINY_LORA);
      return { model: peft.mergeAndUnload(), tokenizer: await sentencePiece(LLAMA1_TINY) };
    },
  },
  {
    name: "demo base model",
    load: async () => ({
      model: await LlamaForCausalLM.fromPretrained(DEMO_BASE_MODEL),
      tokenizer: await sentencePiece(DEMO_BASE_MODEL),
    }),
  },
  {
    name: "GQA + tied embeddings + Llama 3 RoPE, byte-level tokenizer",
    load: async () => {
      const tokenizer = await loadTokenizer(BYTE_LEVEL_TOKENIZER);
      const config = heldBack({
        vocab_size: 3000,
        num_key_value_heads: 2,
        tie_word_embeddings: true,
        bos_token_id: tokenizer.bosTokenId,
        eos_token_id: tokenizer.eosTokenId,
        // An original context of 32 puts the 8 frequencies in all three of Llama 3's bands.
        rope_theta: 10000,
        rope_scaling: {
          rope_type: "llama3",
          factor: 8,
          low_freq_factor: 1,
          high_freq_factor: 4,
          original_max_position_embeddings: 32,
        },
      });
      return { model: LlamaForCausalLM.fromConfig(config, { seed: 17 }), tokenizer };
    },
  },
  {
    name: "MQA (1 KV head) + linear RoPE scaling, SentencePiece tokenizer",
    load: async () => {
      const config = heldBack({
        vocab_size: 2000,
        num_key_value_heads: 1,
        rope_theta: 500,
        rope_scaling: { rope_type: "linear", factor: 4 },
      });
      return { model: LlamaForCausalLM.fromConfig(config, { seed: 23 }), tokenizer: await sentencePiece(LLAMA1_TINY) };
    },
  },
];

/** Our greedy continuation, `count` tokens, not stopping at EOS (as llama.cpp's evaluate loop). */
export async function oursGreedy(model: LlamaForCausalLM, prompt: number[], count: number): Promise<number[]> {
  const [row] = await model.generate(prompt, { maxNewTokens: count, eosTokenId: [] });
  return row.slice(prompt.length);
}
