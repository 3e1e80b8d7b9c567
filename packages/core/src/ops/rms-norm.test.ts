import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS, useBackend } from "../backend/test-backends.js";
import { installWasmKernels, uninstallWasmKernels, wasmKernelsInstalled } from "../kernels/install-kernels.js";
import { ShapeMismatchError } from "../errors.js";
import { rmsNorm, rmsNormReference } from "./rms-norm.js";
import { compareWithReference, randomValues, valueAndGrads } from "./test-support.js";

const TOLERANCE = 1e-5;

/** Shapes: rows and hidden sizes that are not multiples of 4 or of the workgroup, one hidden past it, one large. */
const SHAPES: number[][] = [[3, 5, 37], [2, 1000], [1, 8192], [7]];

async function compare(
  shape: number[],
  seed: number,
  scale = 3,
  eps = 1e-6,
): Promise<{ value: number; grads: number[] }> {
  const hidden = shape[shape.length - 1];
  const x = tf.tensor(
    randomValues(
      shape.reduce((a, b) => a * b, 1),
      seed,
      scale,
    ),
    shape,
  );
  const weight = tf.tensor1d(randomValues(hidden, seed + 1).map((v) => 1 + v / 2));
  const diff = await compareWithReference(
    (a, w) => rmsNorm(a, w, eps),
    (a, w) => rmsNormReference(a, w, eps),
    [x, weight],
  );
  tf.dispose([x, weight]);
  return diff;
}

describe.each(TEST_BACKENDS)("rmsNorm on %s", (backend) => {
  beforeAll(() => useBackend(backend));

  it("matches the tfjs composition in value, dx and dweight", async () => {
    for (const [i, shape] of SHAPES.entries()) {
      const diff = await compare(shape, i + 1);
      expect(diff.value, `${shape} value`).toBeLessThan(TOLERANCE);
      for (const g of diff.grads) expect(g, `${shape} gradient`).toBeLessThan(TOLERANCE);
    }
    const large = await compare([4, 33], 9, 1e3, 1e-5);
    expect(Math.max(large.value, ...large.grads)).toBeLessThan(TOLERANCE);
  });

  it("skips dweight for a frozen weight, and keeps tf.memory() flat", async () => {
    const x = tf.tensor(randomValues(2 * 3 * 40, 5), [2, 3, 40]);
    const weight = tf.ones([40]);
    const step = async () => (await valueAndGrads((a) => rmsNorm(a, weight, 1e-6), [x])).grads[0][0];
    await step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, weight]);
  });

  it("names the shapes when weight does not fit", () => {
    const x = tf.zeros([2, 8]);
    const weight = tf.zeros([7]);
    expect(() => rmsNorm(x, weight, 1e-6)).toThrow(ShapeMismatchError);
    tf.dispose([x, weight]);
  });

  if (backend === "wasm")
    it("wasm: the JS loop (no llamats SIMD kernels) matches too", async () => {
      expect(wasmKernelsInstalled()).toBe(true); // so the test above ran llamats' SIMD path
      uninstallWasmKernels();
      try {
        const diff = await compare([3, 5, 37], 1);
        expect(Math.max(diff.value, ...diff.grads)).toBeLessThan(TOLERANCE);
      } finally {
        installWasmKernels();
      }
    });
});
