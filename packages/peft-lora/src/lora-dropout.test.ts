import * as tf from "@tensorflow/tfjs-core";
import { initBackend, registerGradients, seedDropout } from "@llamats/core";
import { TEST_BACKENDS } from "@llamats/core/testing";
import { LlamaForCausalLM } from "@llamats/llama-model";
import { beforeAll, describe, expect, it } from "vitest";
import { getPeftModel } from "./peft-model.js";

const CONFIG = {
  model_type: "llama",
  vocab_size: 97,
  hidden_size: 32,
  intermediate_size: 48,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 4,
  max_position_embeddings: 64,
  rms_norm_eps: 1e-6,
  tie_word_embeddings: false,
};
const IDS = [
  [1, 5, 9, 14, 22, 7, 3, 40],
  [1, 60, 61, 8, 9, 10, 11, 12],
];

describe.each(TEST_BACKENDS)("lora_dropout on %s", (backend) => {
  beforeAll(async () => {
    await initBackend({ backend });
    await registerGradients();
  });

  it("draws the same masks when gradient checkpointing recomputes a layer: same loss and gradients", async () => {
    const model = LlamaForCausalLM.fromConfig(CONFIG, { seed: 3 });
    const peft = getPeftModel(
      model,
      { r: 4, lora_alpha: 8, lora_dropout: 0.3, target_modules: ["q_proj", "v_proj"] },
      { seed: 4 },
    );
    const variables = peft.trainableVariables();
    // lora_B starts at zero (PEFT's init), which would leave lora_A without a gradient: give it values.
    for (const [key, v] of peft.adapterVariables())
      if (key.includes("lora_B")) v.assign(tf.randomNormal(v.shape, 0, 0.2, "float32", 5));
    const run = async (checkpointing: boolean, seed: number) => {
      model.gradientCheckpointing = checkpointing;
      seedDropout(seed);
      const { value, grads } = tf.variableGrads(() => peft.forward(IDS, { labels: IDS }).loss!, variables);
      const out = {
        loss: (await value.data())[0],
        grads: await Promise.all(variables.map(async (v) => Array.from(await grads[v.name].data()))),
      };
      tf.dispose([value, ...Object.values(grads)]);
      return out;
    };
    const plain = await run(false, 7);
    const checkpointed = await run(true, 7);
    const otherMasks = await run(false, 8);
    expect(checkpointed.loss).toBeCloseTo(plain.loss, 5);
    const worst = (a: number[][], b: number[][]) =>
      Math.max(...a.flatMap((g, i) => g.map((x, j) => Math.abs(x - b[i][j]) / Math.max(1e-3, Math.abs(b[i][j])))));
    expect(worst(checkpointed.grads, plain.grads)).toBeLessThan(1e-4);
    // The masks matter: another seed moves the loss and the gradients well past that.
    expect(Math.abs(otherMasks.loss - plain.loss)).toBeGreaterThan(1e-4);
    expect(worst(otherMasks.grads, plain.grads)).toBeGreaterThan(1e-2);
    model.dispose();
  });
});
