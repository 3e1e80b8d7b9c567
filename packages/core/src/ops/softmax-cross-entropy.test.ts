import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS, useBackend } from "../backend/test-backends.js";
import { installWasmKernels, uninstallWasmKernels, wasmKernelsInstalled } from "../kernels/install-kernels.js";
import { softmaxCrossEntropy, softmaxCrossEntropyReference } from "./softmax-cross-entropy.js";
import { compareWithReference, randomValues, valueAndGrads } from "./test-support.js";

const TOLERANCE = 1e-5;

/** Logits with a few extreme values, targets with ignored rows (-100) and both ends of the vocabulary. */
function problem(
  rows: number,
  vocab: number,
  seed: number,
): { logits: tf.Tensor2D; targets: tf.Tensor1D; weights: tf.Tensor1D; targetList: number[] } {
  const values = randomValues(rows * vocab, seed, 20);
  if (rows > 3) {
    values[3 * vocab + 10] = 1e4;
    values[2 * vocab + 1] = -1e4;
  }
  const targetList = Array.from({ length: rows }, (_, r) =>
    r % 3 === 1 ? -100 : r === 0 ? vocab - 1 : (r * 37) % vocab,
  );
  return {
    logits: tf.tensor2d(values, [rows, vocab]),
    targets: tf.tensor1d(targetList, "int32"),
    weights: tf.tensor1d(Array.from({ length: rows }, (_, r) => 0.5 + r)),
    targetList,
  };
}

describe.each(TEST_BACKENDS)("softmaxCrossEntropy on %s", (backend) => {
  beforeAll(() => useBackend(backend));

  async function compare(rows: number, vocab: number, seed: number): Promise<{ value: number; grads: number[] }> {
    const { logits, targets, weights } = problem(rows, vocab, seed);
    const diff = await compareWithReference(
      (l, w) => softmaxCrossEntropy(l as tf.Tensor2D, targets, { weights: w as tf.Tensor1D }),
      (l, w) => tf.mul(softmaxCrossEntropyReference(l as tf.Tensor2D, targets), w),
      [logits, weights],
    );
    tf.dispose([logits, targets, weights]);
    return diff;
  }

  it("matches logSoftmax + one-hot in value and gradients (rows not a multiple of the workgroup, vocab past it)", async () => {
    for (const [rows, vocab] of [
      [7, 1000],
      [67, 37],
      [1, 2],
      [3, 32000],
    ] as const) {
      const diff = await compare(rows, vocab, rows + vocab);
      expect(diff.value, `${rows}×${vocab} value`).toBeLessThan(TOLERANCE);
      for (const g of diff.grads) expect(g, `${rows}×${vocab} gradient`).toBeLessThan(TOLERANCE);
    }
  });

  it("gives ignored rows exactly 0 loss and 0 gradient, and NaN to a target outside the vocabulary", async () => {
    const { logits, targets, targetList } = problem(6, 300, 3);
    const { value, grads } = await valueAndGrads((l) => softmaxCrossEntropy(l as tf.Tensor2D, targets), [logits]);
    for (let r = 0; r < 6; r++) {
      const row = grads[0].subarray(r * 300, (r + 1) * 300);
      if (targetList[r] === -100) {
        expect(value[r]).toBe(0);
        expect(row.every((g) => g === 0)).toBe(true);
      } else {
        expect(value[r]).toBeGreaterThan(0);
      }
    }
    const bad = tf.tensor1d([5, 300, -1, -100, 7, 0], "int32");
    const nll = softmaxCrossEntropy(logits, bad, { ignoreIndex: 7 });
    const got = Array.from(await nll.data());
    expect(got.map((v) => Number.isNaN(v))).toEqual([false, true, true, true, false, false]);
    expect(got[4]).toBe(0);
    tf.dispose([logits, targets, bad, nll]);
  });

  it("handles zero rows and keeps tf.memory() flat", async () => {
    const empty = softmaxCrossEntropy(tf.zeros<tf.Rank.R2>([0, 10]), tf.zeros<tf.Rank.R1>([0], "int32"));
    expect(empty.shape).toEqual([0]);
    tf.dispose(empty);
    const { logits, targets, weights } = problem(5, 70, 4);
    const step = async () => {
      const { value, grads } = await valueAndGrads(
        (l, w) => softmaxCrossEntropy(l as tf.Tensor2D, targets, { weights: w as tf.Tensor1D }),
        [logits, weights],
      );
      return value[0] + grads[0][0];
    };
    await step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([logits, targets, weights]);
  });

  if (backend === "wasm")
    it("wasm: the JS loop (no llamats SIMD kernels) matches too", async () => {
      expect(wasmKernelsInstalled()).toBe(true); // so the test above ran llamats' SIMD path
      uninstallWasmKernels();
      try {
        const diff = await compare(7, 1000, 11);
        expect(diff.value).toBeLessThan(TOLERANCE);
        for (const g of diff.grads) expect(g).toBeLessThan(TOLERANCE);
      } finally {
        installWasmKernels();
      }
    });
});
