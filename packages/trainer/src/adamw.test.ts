import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { AdamW } from "./adamw.js";
import { TEST_BACKENDS, useBackend } from "@llamats/core/testing";
import { LLAMA1_TINY_LORA, readTensors } from "./test-support/fixtures.js";

describe.each(TEST_BACKENDS)("AdamW (%s)", (backend) => {
  it("matches torch.optim.AdamW's first step on the llama1-tiny-lora fixture within 1e-5", async () => {
    await useBackend(backend);
    const adapter = await readTensors(`${LLAMA1_TINY_LORA}/adapter_model.safetensors`);
    const grads = await readTensors(`${LLAMA1_TINY_LORA}/expected_grads.safetensors`);
    const expected = await readTensors(`${LLAMA1_TINY_LORA}/expected_after_adamw_step.safetensors`);
    const variables = new Map<string, tf.Variable>();
    const gradTensors = new Map<string, tf.Tensor>();
    for (const [name, values] of adapter) {
      variables.set(name, tf.variable(tf.tensor1d(values)));
      gradTensors.set(name, tf.tensor1d(grads.get(name) as Float32Array));
    }
    const optimizer = new AdamW(variables, { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 });
    optimizer.applyGradients(gradTensors, 1e-2);
    let worst = 0;
    for (const [name, variable] of variables) {
      const got = await variable.data();
      const want = expected.get(name) as Float32Array;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
    }
    expect(worst).toBeLessThan(1e-5);
    optimizer.dispose();
    tf.dispose([...variables.values(), ...gradTensors.values()]);
  });

  it("decays weights decoupled from the gradient and round-trips its state", async () => {
    await useBackend(backend);
    const p = tf.variable(tf.tensor1d([2, -1]));
    const optimizer = new AdamW(new Map([["p", p]]), { weightDecay: 0.1 });
    const g = tf.tensor1d([0.5, 0]);
    const before = tf.memory().numTensors;
    optimizer.applyGradients(new Map([["p", g]]), 0.01);
    optimizer.applyGradients(new Map([["p", g]]), 0.01);
    expect(tf.memory().numTensors).toBe(before);
    // torch.optim.AdamW's documented update, in float64, for two steps of the same gradient.
    const want = [2, -1].map((p0, i) => {
      let value = p0;
      let m = 0;
      let v = 0;
      for (let t = 1; t <= 2; t++) {
        const grad = [0.5, 0][i];
        value -= 0.01 * 0.1 * value;
        m = 0.9 * m + 0.1 * grad;
        v = 0.999 * v + 0.001 * grad * grad;
        value -= (0.01 * (m / (1 - 0.9 ** t))) / (Math.sqrt(v / (1 - 0.999 ** t)) + 1e-8);
      }
      return value;
    });
    const got = await p.data();
    expect(Math.abs(got[0] - want[0])).toBeLessThan(1e-6);
    expect(Math.abs(got[1] - want[1])).toBeLessThan(1e-6);
    const state = await optimizer.getState();
    const q = tf.variable(tf.tensor1d([0, 0]));
    const copy = new AdamW(new Map([["p", q]]), { weightDecay: 0.1 });
    copy.setState(state);
    expect(copy.step).toBe(2);
    expect(Array.from((await copy.getState()).moments.get("p")?.expAvgSq ?? [])).toEqual(
      Array.from(state.moments.get("p")?.expAvgSq ?? []),
    );
    optimizer.dispose();
    copy.dispose();
    tf.dispose([p, q, g]);
  });

  it("frees every tensor it makes: construct, setState and dispose leave tf.memory() as it was", async () => {
    await useBackend(backend);
    const p = tf.variable(
      tf.tensor2d([
        [1, 2],
        [3, 4],
      ]),
    );
    const g = tf.ones([2, 2]);
    const before = tf.memory().numTensors;
    const optimizer = new AdamW(new Map([["p", p]]));
    optimizer.applyGradients(new Map([["p", g]]), 0.1);
    const state = await optimizer.getState();
    const copy = new AdamW(new Map([["p", p]]));
    copy.setState(state);
    optimizer.dispose();
    copy.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([p, g]);
  });
});
