import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { maxBindingBytes } from "@llamats/core";
import { LlamaForCausalLM } from "@llamats/llama-model";
import { TEST_BACKENDS, useBackend } from "@llamats/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getPeftModel } from "./peft-model.js";

// vocab 32000 × hidden 1152 in float32 is 141 MiB: more than lavapipe's 128 MiB storage-buffer binding limit.
const BIG_VOCAB = {
  model_type: "llama",
  vocab_size: 32_000,
  hidden_size: 1152,
  intermediate_size: 128,
  num_hidden_layers: 1,
  num_attention_heads: 8,
  num_key_value_heads: 8,
  max_position_embeddings: 64,
  rms_norm_eps: 1e-6,
  rope_theta: 10000,
  tie_word_embeddings: false,
  bos_token_id: 1,
  eos_token_id: 2,
};
const IDS = [1, 517, 31_999, 20, 7000, 3, 12_345, 9];
const LABELS = [-100, -100, 31_999, 20, 7000, 3, 12_345, 9];
const LORA = { r: 4, target_modules: ["q_proj", "v_proj", "lm_head"], init_lora_weights: false as const };

interface Reference {
  logits: Float32Array;
  greedy: number[];
  loss: number;
  grads: Map<string, Float32Array>;
}

/** Loss and adapter gradients of one LoRA step on the model (the adapter seeded the same on every backend). */
async function loraStep(model: LlamaForCausalLM): Promise<{ loss: number; grads: Map<string, Float32Array> }> {
  const peft = getPeftModel(model, LORA, { seed: 5 });
  const variables = peft.adapterVariables();
  const { value, grads } = tf.variableGrads(() => {
    const { logits, loss } = peft.forward([IDS], { labels: [LABELS] });
    logits.dispose();
    return loss!;
  }, [...variables.values()]);
  const out = new Map<string, Float32Array>();
  for (const [name, v] of variables) out.set(name, (await grads[v.name].data()) as Float32Array);
  const loss = (await value.data())[0];
  tf.dispose([value, ...Object.values(grads)]);
  peft.unload();
  return { loss, grads: out };
}

async function reference(model: LlamaForCausalLM): Promise<Reference> {
  const { logits } = model.forward([IDS]);
  const values = (await logits.data()) as Float32Array;
  logits.dispose();
  const greedy = (await model.generate(IDS.slice(0, 4), { maxNewTokens: 4, eosTokenId: [] }))[0];
  return { logits: values, greedy, ...(await loraStep(model)) };
}

function relDiff(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 1e-12;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

describe.each(TEST_BACKENDS.filter((b) => b === "webgpu"))(
  "a vocabulary bigger than one %s binding",
  { timeout: 300_000 },
  (backend) => {
    let dir: string;
    let expected: Reference;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "llamats-big-vocab-"));
      await useBackend("cpu");
      const model = LlamaForCausalLM.fromConfig(BIG_VOCAB, { seed: 3 });
      await model.savePretrained(dir);
      expected = await reference(model);
      model.dispose();
    }, 300_000);
    afterAll(() => rm(dir, { recursive: true, force: true }));

    it("loads split along the vocabulary, and gives the cpu logits, greedy ids and LoRA gradients", async () => {
      await useBackend(backend);
      const limit = maxBindingBytes();
      expect(BIG_VOCAB.vocab_size * BIG_VOCAB.hidden_size * 4).toBeGreaterThan(limit);
      const model = await LlamaForCausalLM.fromPretrained(dir);
      const chunks = [...model.namedParameters().keys()].filter((n) => n.startsWith("lm_head.weight["));
      expect(chunks.length).toBeGreaterThan(1);
      for (const name of chunks) expect(model.namedParameters().get(name)!.size * 4).toBeLessThanOrEqual(limit);
      const got = await reference(model);
      expect(relDiff(got.logits, expected.logits)).toBeLessThan(1e-4);
      expect(got.greedy).toEqual(expected.greedy);
      expect(Math.abs(got.loss - expected.loss)).toBeLessThan(1e-4);
      for (const [name, grad] of expected.grads) expect(relDiff(got.grads.get(name)!, grad), name).toBeLessThan(1e-4);
      model.dispose();
    });

    it("made from its config on the device (same seed), it is the cpu model: drawn on the host, sent in chunks", async () => {
      await useBackend(backend);
      const model = LlamaForCausalLM.fromConfig(BIG_VOCAB, { seed: 3 });
      expect(
        [...model.namedParameters().keys()].filter((n) => n.startsWith("model.embed_tokens.weight[")).length,
      ).toBeGreaterThan(1);
      const { logits } = model.forward([IDS]);
      expect(relDiff((await logits.data()) as Float32Array, expected.logits)).toBeLessThan(1e-4);
      logits.dispose();
      model.dispose();
    });
  },
);
