import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "@llamats/core";
import { beforeAll, describe, expect, it } from "vitest";
import { parseLlamaConfig } from "./config.js";
import { LlamaForCausalLM } from "./llama-for-causal-lm.js";
import { TEST_BACKENDS, readScalar } from "@llamats/core/testing";
import { LLAMA3_SMALL } from "./testing/tiny-configs.js";

const IDS = [
  [1, 7, 33, 90, 12, 5, 64, 2, 18, 44],
  [1, 70, 3, 3, 9, 100, 41, 8, 0, 0],
];
const MASK = [
  [1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
  [1, 1, 1, 1, 1, 1, 1, 1, 0, 0],
];

/**
 * The same network written as MHA with untied head: each query head gets its own copy of the key/value
 * head it shares under GQA (transformers' repeat_kv: head h reads kv head floor(h / groups)), and
 * lm_head.weight is a copy of the embedding.
 */
function asMhaUntied(gqa: LlamaForCausalLM): LlamaForCausalLM {
  const c = gqa.config;
  const groups = c.numAttentionHeads / c.numKeyValueHeads;
  const params = new Map<string, tf.Variable>();
  for (const [name, v] of gqa.namedParameters()) {
    let value: tf.Tensor = v;
    if (/self_attn\.[kv]_proj\.weight$/.test(name)) {
      value = tf.tidy(() => {
        const perHead = tf.reshape(v, [c.numKeyValueHeads, 1, c.headDim, c.hiddenSize]);
        return tf.reshape(tf.tile(perHead, [1, groups, 1, 1]), [c.numAttentionHeads * c.headDim, c.hiddenSize]);
      });
    }
    params.set(name, tf.variable(tf.clone(value)));
    if (value !== v) value.dispose();
  }
  params.set("lm_head.weight", tf.variable(tf.clone(params.get("model.embed_tokens.weight")!)));
  const config = parseLlamaConfig({ ...c.raw, num_key_value_heads: c.numAttentionHeads, tie_word_embeddings: false });
  return new LlamaForCausalLM(config, params);
}

describe.each(TEST_BACKENDS)("LLaMA-3-style model on %s (GQA, tied embeddings, llama3 RoPE, 5.x config)", (backend) => {
  beforeAll(async () => {
    await initBackend({ backend });
  });

  it("has no lm_head parameter when tied, and its head is the embedding", () => {
    const model = LlamaForCausalLM.fromConfig(LLAMA3_SMALL, { seed: 3 });
    expect(model.namedParameters().has("lm_head.weight")).toBe(false);
    expect(model.namedParameters().get("model.layers.0.self_attn.k_proj.weight")!.shape).toEqual([16, 48]);
    expect(model.linearNames()).toContain("lm_head");
    model.dispose();
  });

  it("GQA + tied gives the logits of the equivalent MHA + untied model", async () => {
    const gqa = LlamaForCausalLM.fromConfig(LLAMA3_SMALL, { seed: 3 });
    const mha = asMhaUntied(gqa);
    const a = gqa.forward(IDS, { attentionMask: MASK }).logits;
    const b = mha.forward(IDS, { attentionMask: MASK }).logits;
    const diff = await readScalar(
      tf.tidy(() => tf.max(tf.abs(tf.sub(tf.slice(a, [0, 0, 0], [1, 10, -1]), tf.slice(b, [0, 0, 0], [1, 10, -1]))))),
    );
    expect(diff).toBeLessThan(1e-5);
    // Positions within the long-wavelength regime differ from unscaled RoPE, so scaling is exercised.
    expect(await readScalar(tf.tidy(() => tf.max(tf.abs(a))))).toBeGreaterThan(0);
    tf.dispose([a, b]);
    gqa.dispose();
    mha.dispose();
  });

  it("greedy generation with the cache equals recomputing the whole sequence each step", async () => {
    const model = LlamaForCausalLM.fromConfig(LLAMA3_SMALL, { seed: 4 });
    const prompt = [1, 17, 29, 4, 88];
    const cached = (await model.generate(prompt, { maxNewTokens: 12, eosTokenId: [] }))[0];
    const ids = [...prompt];
    for (let i = 0; i < 12; i++) {
      const next = await readScalar(
        tf.tidy(() => {
          const { logits } = model.forward([ids]);
          return tf.argMax(tf.squeeze(tf.slice(logits, [0, ids.length - 1, 0], [1, 1, -1])), -1);
        }),
      );
      ids.push(next);
    }
    expect(cached).toEqual(ids);
    model.dispose();
  });
});
