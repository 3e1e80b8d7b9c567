import * as tf from "@tensorflow/tfjs-core";
import { initBackend, installWasmKernels, uninstallWasmKernels } from "@llamats/core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { LlamaForCausalLM } from "./llama-for-causal-lm.js";
import { LLAMA1_SMALL, LLAMA3_SMALL } from "./testing/tiny-configs.js";
import { WasmDecoder } from "./wasm-decode.js";

/** Greedy steps through forwardCached, returning every step's logits: the decode path under test. */
async function stepLogits(model: LlamaForCausalLM, prompts: number[][], steps: number): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  const original = model.forwardCached.bind(model);
  const spy = vi.spyOn(model, "forwardCached").mockImplementation((options) => {
    const logits = original(options);
    out.push(Float32Array.from(logits.dataSync()));
    return logits;
  });
  // A repetition penalty other than 1 makes generate read the logits (not just their argmax) every step.
  await model.generate(prompts, { maxNewTokens: steps, eosTokenId: [], repetitionPenalty: 1.0001 });
  spy.mockRestore();
  return out;
}

describe("the fused wasm decode step", () => {
  beforeAll(async () => {
    await initBackend({ backend: "wasm" });
  });
  afterAll(() => installWasmKernels());

  for (const [name, config] of [
    ["LLaMA-1 (MHA)", LLAMA1_SMALL],
    ["LLaMA-3 (GQA, tied, llama3 RoPE)", LLAMA3_SMALL],
  ] as const) {
    it(`${name}: runs for one-token steps and matches tfjs ops within 1e-5 on a left-padded batch`, async () => {
      const model = LlamaForCausalLM.fromConfig(config, { seed: 7 });
      const prompts = [
        [1, 5, 6, 7, 8],
        [1, 40],
        [1, 20, 21],
      ];
      installWasmKernels();
      const fused = vi.spyOn(WasmDecoder.prototype, "step");
      const before = tf.memory().numTensors;
      const withKernels = await stepLogits(model, prompts, 6);
      expect(tf.memory().numTensors).toBe(before);
      // Prefill runs through tfjs ops, the 5 later steps through the fused step.
      expect(fused).toHaveBeenCalledTimes(5);
      fused.mockRestore();
      uninstallWasmKernels();
      const withTfjs = await stepLogits(model, prompts, 6);
      installWasmKernels();
      expect(withKernels.length).toBe(withTfjs.length);
      let worst = 0;
      withKernels.forEach((row, s) => row.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - withTfjs[s][i])))));
      expect(worst).toBeLessThan(1e-5);
      model.dispose();
    });
  }

  it("falls back to tfjs ops when a layer is wrapped (e.g. an unmerged adapter)", async () => {
    const model = LlamaForCausalLM.fromConfig(LLAMA1_SMALL, { seed: 3 });
    const inner = model.getLinear("model.layers.0.self_attn.q_proj");
    model.setLinear("model.layers.0.self_attn.q_proj", {
      inFeatures: inner.inFeatures,
      outFeatures: inner.outFeatures,
      apply: (x) => inner.apply(x),
    });
    const fused = vi.spyOn(WasmDecoder.prototype, "step");
    const ids = await model.generate([1, 5, 6], { maxNewTokens: 4, eosTokenId: [] });
    expect(fused).not.toHaveBeenCalled();
    fused.mockRestore();
    model.setLinear("model.layers.0.self_attn.q_proj", inner);
    expect(await model.generate([1, 5, 6], { maxNewTokens: 4, eosTokenId: [] })).toEqual(ids);
    model.dispose();
  });

  it("after generating, replaced layers are what the next generation's fused step multiplies by", async () => {
    const model = LlamaForCausalLM.fromConfig(LLAMA1_SMALL, { seed: 3 });
    const other = LlamaForCausalLM.fromConfig(LLAMA1_SMALL, { seed: 4 });
    const prompt = [1, 5, 6];
    const before = await model.generate(prompt, { maxNewTokens: 6, eosTokenId: [] });
    // Every projection of `other` into `model`: the fused step's cached inputs must follow the replacements.
    for (const linear of model.linearNames()) model.setLinear(linear, other.getLinear(linear));
    const fused = vi.spyOn(WasmDecoder.prototype, "step");
    const after = await model.generate(prompt, { maxNewTokens: 6, eosTokenId: [] });
    expect(fused).toHaveBeenCalled();
    fused.mockRestore();
    // The reference: greedy picks from full forward passes, which never go through the decode step.
    const reference = [...prompt];
    for (let step = 0; step < 6; step++) {
      const logits = model.forward([reference]).logits;
      const last = tf.tidy(() =>
        tf.argMax(tf.reshape(tf.slice(logits, [0, reference.length - 1, 0], [1, 1, -1]), [-1])),
      );
      reference.push((await last.data())[0]);
      tf.dispose([logits, last]);
    }
    expect(after).toEqual([reference]);
    expect(after).not.toEqual(before);
    model.dispose();
    other.dispose();
  });
});
