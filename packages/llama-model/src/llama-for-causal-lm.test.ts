import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "@llamats/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlamaForCausalLM } from "./llama-for-causal-lm.js";
import { TINY_DIR, readTinyExpected, type TinyExpected } from "./testing/fixtures.js";
import { TEST_BACKENDS } from "@llamats/core/testing";

describe.each(TEST_BACKENDS)("LlamaForCausalLM on %s against transformers (llama1-tiny)", (backend) => {
  let model: LlamaForCausalLM;
  let expected: TinyExpected;

  beforeAll(async () => {
    await initBackend({ backend });
    expected = await readTinyExpected();
    model = await LlamaForCausalLM.fromPretrained(TINY_DIR);
  });
  afterAll(() => model?.dispose());

  it("gives logits within 1e-4 at every unpadded position and the loss within 1e-4", async () => {
    const { logits, loss } = model.forward(expected.inputIds, {
      attentionMask: expected.attentionMask,
      labels: expected.labels,
    });
    const got = (await logits.data()) as Float32Array;
    const [batch, seq, vocab] = logits.shape;
    expect([batch, seq, vocab]).toEqual([2, 24, 2000]);
    let maxDiff = 0;
    for (let b = 0; b < batch; b++) {
      for (let t = 0; t < seq; t++) {
        if (expected.attentionMask[b][t] === 0) continue;
        for (let v = 0; v < vocab; v++) {
          const i = (b * seq + t) * vocab + v;
          maxDiff = Math.max(maxDiff, Math.abs(got[i] - expected.logits[i]));
        }
      }
    }
    expect(maxDiff).toBeLessThan(1e-4);
    expect(Math.abs((await loss!.data())[0] - expected.loss)).toBeLessThan(1e-4);
    logits.dispose();
    loss!.dispose();
  });

  it("accepts an int32 tensor and leaves no tensors behind", () => {
    const before = tf.memory().numTensors;
    const ids = tf.tensor2d(expected.inputIds, undefined, "int32");
    const { logits } = model.forward(ids, { attentionMask: expected.attentionMask });
    expect(logits.shape).toEqual([2, 24, 2000]);
    logits.dispose();
    ids.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("greedy generation reproduces transformers ids", async () => {
    const prompt = expected.greedyIds.slice(0, 8);
    const out = await model.generate(prompt, { maxNewTokens: 16 });
    expect(out[0]).toEqual(expected.greedyIds);
  });
});
