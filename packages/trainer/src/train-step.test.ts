import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { buildMicroBatch, disposeMicroBatch, type TrainingExample } from "./micro-batches.js";
import { readScalar, TEST_BACKENDS, useBackend } from "@llamats/core/testing";
import { LLAMA1_TINY, LLAMA1_TINY_LORA, readTensors } from "./test-support/fixtures.js";
import { tinyPeftModel } from "./test-support/tiny-models.js";
import { computeStepGradients } from "./train-step.js";

async function fixtureExamples(): Promise<{ examples: TrainingExample[]; expected: Map<string, Float32Array> }> {
  // The inputs are llama1-tiny's; the adapter's loss is in llama1-tiny-lora.
  const inputs = await readTensors(`${LLAMA1_TINY}/expected.safetensors`);
  const expected = await readTensors(`${LLAMA1_TINY_LORA}/expected.safetensors`);
  const ids = Array.from(inputs.get("input_ids") as Float32Array);
  const labels = Array.from(inputs.get("labels") as Float32Array);
  const mask = Array.from(inputs.get("attention_mask") as Float32Array);
  const examples = [0, 1].map((row) => {
    const length = mask.slice(row * 24, row * 24 + 24).filter((m) => m === 1).length;
    return { input_ids: ids.slice(row * 24, row * 24 + length), labels: labels.slice(row * 24, row * 24 + length) };
  });
  return { examples, expected };
}

describe.each(TEST_BACKENDS)("computeStepGradients (%s)", (backend) => {
  it("gives PEFT's loss and LoRA gradients on llama1-tiny-lora (1e-4 of their max)", async () => {
    await useBackend(backend);
    const { examples, expected } = await fixtureExamples();
    const { model, dispose } = await tinyPeftModel(LLAMA1_TINY_LORA);
    const batch = buildMicroBatch(examples, 0);
    const step = computeStepGradients(model, [batch], model.namedTrainableVariables());
    expect(Math.abs((await readScalar(step.loss)) - (expected.get("loss") as Float32Array)[0])).toBeLessThan(1e-4);
    const wantGrads = await readTensors(`${LLAMA1_TINY_LORA}/expected_grads.safetensors`);
    for (const [name, want] of wantGrads) {
      const got = await (step.grads.get(name) as tf.Tensor).data();
      const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      expect(worst / Math.max(scale, 1e-12), name).toBeLessThan(1e-4);
    }
    tf.dispose([...step.grads.values()]);
    disposeMicroBatch(batch);
    dispose();
  });

  it("weights micro-batches by their tokens: two micro-batches give the one-batch loss and gradients", async () => {
    await useBackend(backend);
    const { examples } = await fixtureExamples();
    const { model, dispose } = await tinyPeftModel(LLAMA1_TINY_LORA);
    const whole = buildMicroBatch(examples, 0);
    const parts = examples.map((e) => buildMicroBatch([e], 0));
    expect(parts[0].targetTokens).not.toBe(parts[1].targetTokens);
    const before = tf.memory().numTensors;
    const one = computeStepGradients(model, [whole], model.namedTrainableVariables());
    const two = computeStepGradients(model, parts, model.namedTrainableVariables());
    expect(Math.abs((await readScalar(one.loss)) - (await readScalar(two.loss)))).toBeLessThan(1e-5);
    for (const [name, g] of one.grads) {
      const a = await g.data();
      const b = await (two.grads.get(name) as tf.Tensor).data();
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-5);
    }
    tf.dispose([...one.grads.values(), ...two.grads.values()]);
    expect(tf.memory().numTensors).toBe(before);
    [whole, ...parts].forEach(disposeMicroBatch);
    dispose();
  });
});
