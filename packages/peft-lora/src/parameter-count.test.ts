import { describe, expect, it } from "vitest";
import { formatParameterReport, loraParameterReport, loraTrainableParameterCount } from "./parameter-count.js";

// huggyllama/llama-7b's config.json (the shape of LLaMA-7B).
const LLAMA_7B = {
  architectures: ["LlamaForCausalLM"],
  hidden_size: 4096,
  intermediate_size: 11008,
  num_attention_heads: 32,
  num_hidden_layers: 32,
  vocab_size: 32000,
  model_type: "llama",
  rms_norm_eps: 1e-6,
  tie_word_embeddings: false,
};

describe("loraTrainableParameterCount", () => {
  it("gives 4,194,304 for LLaMA-7B with r=8 on q_proj and v_proj (alpaca-lora)", () => {
    expect(loraTrainableParameterCount(LLAMA_7B, { r: 8, target_modules: ["q_proj", "v_proj"] })).toBe(4_194_304);
  });

  it("matches PEFT's print_trainable_parameters line for that model", () => {
    const report = loraParameterReport(LLAMA_7B, { r: 8, lora_alpha: 16, target_modules: ["q_proj", "v_proj"] });
    expect(formatParameterReport(report)).toBe(
      "trainable params: 4,194,304 || all params: 6,742,609,920 || trainable%: 0.0622",
    );
  });

  it("accounts for GQA-shaped k/v, rank_pattern and all-linear", () => {
    const gqa = { ...LLAMA_7B, num_hidden_layers: 2, num_key_value_heads: 8 };
    // k/v map 4096 → 1024: r·(4096 + 1024) each.
    expect(loraTrainableParameterCount(gqa, { r: 4, target_modules: ["k_proj"] })).toBe(2 * 4 * (4096 + 1024));
    expect(
      loraTrainableParameterCount(gqa, {
        r: 4,
        target_modules: ["k_proj"],
        rank_pattern: { "layers.1.self_attn.k_proj": 2 },
      }),
    ).toBe(4 * 5120 + 2 * 5120);
    const perLayer = 2 * (4096 + 4096) + 2 * (4096 + 1024) + 3 * (4096 + 11008);
    expect(loraTrainableParameterCount(gqa, { r: 1, target_modules: "all-linear" })).toBe(2 * perLayer);
  });

  it("counts modules_to_save copies as trainable", () => {
    const count = loraTrainableParameterCount(LLAMA_7B, {
      r: 8,
      target_modules: ["q_proj", "v_proj"],
      modules_to_save: ["lm_head"],
    });
    expect(count).toBe(4_194_304 + 32000 * 4096);
  });
});
