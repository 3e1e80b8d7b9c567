import * as tf from "@tensorflow/tfjs-core";
import { initBackend, registerGradients } from "@llamats/core";
import { TEST_BACKENDS } from "@llamats/core/testing";
import { Linear } from "@llamats/llama-model";
import { beforeAll, describe, expect, it } from "vitest";
import { LoraLinear } from "./lora-linear.js";

const random = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 0.5, "float32", seed);

async function worstDiff(a: tf.Tensor[], b: tf.Tensor[]): Promise<number> {
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const [x, y] = [await a[i].data(), await b[i].data()];
    for (let j = 0; j < x.length; j++) worst = Math.max(worst, Math.abs(x[j] - y[j]) / Math.max(1, Math.abs(y[j])));
  }
  return worst;
}

describe.each(TEST_BACKENDS)("LoraLinear.applyAdd on %s", (backend) => {
  beforeAll(async () => {
    await initBackend({ backend });
    await registerGradients();
  });

  it("equals apply(x) + addend in value and in the gradients of x, the addend, lora_A and lora_B (with or without a bias)", async () => {
    for (const withBias of [false, true]) {
      const base = new Linear(tf.variable(random([6, 5], 1)), withBias ? tf.variable(random([6], 2)) : null);
      const layer = new LoraLinear("o_proj", base);
      const weights = { loraA: tf.variable(random([3, 5], 3)), loraB: tf.variable(random([6, 3], 4)) };
      layer.addAdapter("default", { rank: 3, alpha: 6, scaling: 2, dropout: 0, ...weights });
      layer.activeAdapter = "default";
      const x = tf.variable(random([2, 4, 5], 5));
      const residual = tf.variable(random([2, 4, 6], 6));
      const cotangent = random([2, 4, 6], 7);
      const variables = [x, residual, weights.loraA, weights.loraB];
      const run = (fused: boolean) =>
        tf.variableGrads(() => {
          const y = fused ? layer.applyAdd(x, residual) : tf.add(layer.apply(x), residual);
          return tf.sum(tf.mul(y, cotangent));
        }, variables);
      const [fused, plain] = [run(true), run(false)];
      const grads = (r: typeof fused) => variables.map((v) => r.grads[v.name]);
      expect(await worstDiff(grads(fused), grads(plain)), `bias ${withBias}`).toBeLessThan(1e-5);
      const yFused = layer.applyAdd(x, residual);
      const yPlain = tf.add(layer.apply(x), residual);
      expect(await worstDiff([yFused], [yPlain])).toBeLessThan(1e-5);
      layer.disabled = true; // the base layer alone takes the addend too
      const baseOnly = layer.applyAdd(x, residual);
      expect(await worstDiff([baseOnly], [tf.add(base.apply(x), residual)])).toBeLessThan(1e-5);
      tf.dispose([...grads(fused), ...grads(plain), fused.value, plain.value, yFused, yPlain, baseOnly, cotangent]);
      tf.dispose([...variables, base.weight, ...(base.bias ? [base.bias] : [])]);
    }
  });
});
