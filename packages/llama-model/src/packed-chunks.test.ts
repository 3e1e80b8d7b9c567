import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { packWeight, packingRowChunks, type PackedWeight } from "@llamats/core";
import { TEST_BACKENDS, useBackend } from "@llamats/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlamaForCausalLM } from "./llama-for-causal-lm.js";

/**
 * An embedding and head of 4200 × 1024 float32 (17.2 MB): over the 16 MiB packing chunk, so they are drawn, read and
 * packed as two chunks of rows; the pad row sits in the second.
 */
const TWO_CHUNKS = {
  model_type: "llama",
  vocab_size: 4200,
  hidden_size: 1024,
  intermediate_size: 128,
  num_hidden_layers: 1,
  num_attention_heads: 8,
  num_key_value_heads: 8,
  max_position_embeddings: 64,
  rms_norm_eps: 1e-6,
  tie_word_embeddings: false,
  initializer_range: 0.02,
  bos_token_id: 1,
  eos_token_id: 2,
  pad_token_id: 4150,
};
const VOCAB_TENSORS = ["model.embed_tokens.weight", "lm_head.weight"];

/** The packed words and scales as they sit on the backend. */
async function hostCopy(weight: PackedWeight): Promise<{ words: Int32Array; scales: Float32Array }> {
  return { words: (await weight.words.data()) as Int32Array, scales: (await weight.scales.data()) as Float32Array };
}

/** The first index where two arrays' bytes differ, or -1 (toEqual on a million elements takes seconds). */
function firstDifference(a: Int32Array | Float32Array, b: Int32Array | Float32Array): number {
  const [x, y] = [
    new Uint8Array(a.buffer, a.byteOffset, a.byteLength),
    new Uint8Array(b.buffer, b.byteOffset, b.byteLength),
  ];
  if (x.length !== y.length) return Math.min(x.length, y.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

describe.each(TEST_BACKENDS)("packing a chunk of rows at a time on %s", (backend) => {
  let work: string;
  beforeAll(async () => {
    await useBackend(backend);
    work = await mkdtemp(join(tmpdir(), "llama-chunks-"));
  });
  afterAll(() => rm(work, { recursive: true, force: true }));

  it("fromConfig and fromPretrained pack the same bytes as packing the float32 tensor whole", async () => {
    expect(packingRowChunks(4200, 1024)).toHaveLength(2);
    const original = LlamaForCausalLM.fromConfig(TWO_CHUNKS, { seed: 3 });
    const drawn = LlamaForCausalLM.fromConfig(TWO_CHUNKS, { seed: 3, weights: "int8" });
    await original.savePretrained(join(work, "original"));
    const read = await LlamaForCausalLM.fromPretrained(join(work, "original"), { weights: "int8" });
    for (const name of VOCAB_TENSORS) {
      const values = (await original.namedParameters().get(name)!.data()) as Float32Array;
      if (name === "model.embed_tokens.weight")
        expect(values.subarray(4150 * 1024, 4151 * 1024).every((v) => v === 0)).toBe(true);
      const whole = packWeight(values, { format: "int8", outFeatures: 4200, inFeatures: 1024, name });
      for (const model of [drawn, read]) {
        const got = await hostCopy(model.packedWeights().get(name)!);
        expect(firstDifference(got.words, whole.words), name).toBe(-1);
        expect(firstDifference(got.scales, whole.scales), name).toBe(-1);
      }
    }
    const before = tf.memory().numTensors;
    for (const m of [original, drawn, read]) m.dispose();
    expect(tf.memory().numTensors).toBeLessThan(before);
  }, 120_000);
});
