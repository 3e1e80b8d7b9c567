import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS, useBackend } from "../backend/test-backends.js";
import { ShapeMismatchError } from "../errors.js";
import { installWasmKernels, uninstallWasmKernels, wasmKernelsInstalled } from "../kernels/install-kernels.js";
import { swiglu, swigluReference } from "./swiglu.js";
import { SWIGLU_GRAD, SWIGLU_GRAD_GATE, SWIGLU_GRAD_UP } from "./swiglu.kernels.js";
import { compareWithReference, maxScaledDiff, randomValues, valueAndGrads } from "./test-support.js";

const TOLERANCE = 1e-5;

/** Sizes that are not multiples of 4 or of the workgroup. */
const SHAPES: number[][] = [[3, 5, 37], [1001], [2, 3, 7, 11]];

describe.each(TEST_BACKENDS)("swiglu on %s", (backend) => {
  beforeAll(() => useBackend(backend));

  async function compareAll(): Promise<void> {
    for (const [i, shape] of SHAPES.entries()) {
      const size = shape.reduce((a, b) => a * b, 1);
      const gateValues = randomValues(size, i + 1, 8);
      gateValues[0] = -100; // sigmoid underflows: silu and its derivative are 0
      gateValues[1] = 100;
      const gate = tf.tensor(gateValues, shape);
      const up = tf.tensor(randomValues(size, i + 50, 3), shape);
      const diff = await compareWithReference(swiglu, swigluReference, [gate, up]);
      expect(diff.value, `${shape} value`).toBeLessThan(TOLERANCE);
      for (const g of diff.grads) expect(g, `${shape} gradient`).toBeLessThan(TOLERANCE);
      tf.dispose([gate, up]);
    }
  }

  it("matches silu(gate) · up in value, dgate and dup", compareAll);

  it("matches in each gradient alone (the other input held constant)", async () => {
    const gate = tf.tensor(randomValues(3 * 37, 7, 8), [3, 37]);
    const up = tf.tensor(randomValues(3 * 37, 8, 3), [3, 37]);
    const gateOnly = await compareWithReference(
      (g) => swiglu(g, up),
      (g) => swigluReference(g, up),
      [gate],
    );
    const upOnly = await compareWithReference(
      (u) => swiglu(gate, u),
      (u) => swigluReference(gate, u),
      [up],
    );
    expect(Math.max(gateOnly.value, ...gateOnly.grads, ...upOnly.grads)).toBeLessThan(TOLERANCE);
    tf.dispose([gate, up]);
  });

  async function compareGradientKernels(): Promise<void> {
    const [gate, up, dy] = [1, 2, 3].map((seed) => tf.tensor(randomValues(1001, seed, 6), [7, 143]));
    const [dgate, dup] = tf.engine().runKernel<tf.Tensor[]>(SWIGLU_GRAD, { gate, up, dy });
    const gateAlone = tf.engine().runKernel<tf.Tensor>(SWIGLU_GRAD_GATE, { gate, up, dy });
    const upAlone = tf.engine().runKernel<tf.Tensor>(SWIGLU_GRAD_UP, { gate, dy });
    expect(maxScaledDiff(await dgate.data(), await gateAlone.data())).toBeLessThan(TOLERANCE);
    expect(maxScaledDiff(await dup.data(), await upAlone.data())).toBeLessThan(TOLERANCE);
    tf.dispose([gate, up, dy, dgate, dup, gateAlone, upAlone]);
  }

  it("the one-pass gradient kernel gives what the per-input kernels give", compareGradientKernels);

  if (backend === "wasm")
    it("wasm: the JS loop (no llamats SIMD kernels) matches too", async () => {
      expect(wasmKernelsInstalled()).toBe(true); // so the test above ran llamats' SIMD path
      uninstallWasmKernels();
      try {
        await compareAll();
        await compareGradientKernels();
      } finally {
        installWasmKernels();
      }
    });

  it("keeps tf.memory() flat and rejects mismatched shapes", async () => {
    const gate = tf.tensor(randomValues(70, 3), [7, 10]);
    const up = tf.tensor(randomValues(70, 4), [7, 10]);
    // Both gradients, then one alone (the one-pass kernel's other output must not outlive the backward pass).
    const step = async () =>
      (await valueAndGrads(swiglu, [gate, up])).grads[1][0] +
      (await valueAndGrads((g) => swiglu(g, up), [gate])).grads[0][0];
    await step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await step();
    expect(tf.memory().numTensors).toBe(before);
    const other = tf.zeros([10, 7]);
    expect(() => swiglu(gate, other)).toThrow(ShapeMismatchError);
    tf.dispose([gate, up, other]);
  });
});
