import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { countGpuDispatches } from "../backend/gpu-dispatches.js";
import { attention } from "./attention.js";
import { dropout } from "./dropout.js";
import { TEST_BACKENDS, useBackend } from "../backend/test-backends.js";
import { matMul } from "./matmul.js";
import { disposePackedWeight, packWeightTensors, packedMatMul } from "./packed-matmul.js";
import { rmsNorm } from "./rms-norm.js";
import { rope } from "./rope.js";
import { softmaxCrossEntropy } from "./softmax-cross-entropy.js";
import { swiglu } from "./swiglu.js";
import { randomValues } from "./test-support.js";

/** GPU dispatches of f's forward alone, and of forward plus the gradients of `xs` (with dy given, so no ones fill). */
async function dispatches(f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[]): Promise<[number, number]> {
  const forward = countGpuDispatches()!;
  const y = f(...xs);
  await y.data();
  forward.stop();
  const dy = tf.onesLike(y);
  await dy.data();
  const both = countGpuDispatches()!;
  const grads = tf.grads(f)(xs, dy);
  await Promise.all(grads.map((g) => g.data()));
  both.stop();
  tf.dispose([y, dy, ...grads]);
  return [forward.count(), both.count() - forward.count()];
}

// The fusion each op exists for, counted: a regression to many small tfjs ops shows here first.
describe.each(TEST_BACKENDS.filter((b) => b === "webgpu"))(
  "GPU dispatches per op on webgpu (forward, backward)",
  () => {
    beforeAll(() => useBackend("webgpu"), 60_000);

    it("cross-entropy 2 / 1, rmsNorm 1 / 1 + 2 (dx, dweight), swiglu 1 / 1 + 1, rope 1 / 1 (bhsd or bshd), dropout 1 / 1", async () => {
      const logits = tf.tensor2d(randomValues(5 * 300, 1), [5, 300]);
      const targets = tf.tensor1d([3, -100, 299, 0, 7], "int32");
      const x = tf.tensor2d(randomValues(6 * 40, 2), [6, 40]);
      const weight = tf.tensor1d(randomValues(40, 3));
      const up = tf.tensor2d(randomValues(6 * 40, 6), [6, 40]);
      const q = tf.tensor4d(randomValues(2 * 3 * 4 * 8, 4), [2, 3, 4, 8]);
      const table = tf.tensor3d(randomValues(4 * 8, 5), [1, 4, 8]);
      expect(await dispatches((l) => softmaxCrossEntropy(l as tf.Tensor2D, targets), [logits])).toEqual([2, 1]);
      expect(await dispatches((a) => rmsNorm(a, weight, 1e-6), [x])).toEqual([1, 1]);
      expect(await dispatches((a, w) => rmsNorm(a, w, 1e-6), [x, weight])).toEqual([1, 3]);
      expect(await dispatches((g, u) => swiglu(g, u), [x, up])).toEqual([1, 2]);
      expect(await dispatches((a) => rope(a as tf.Tensor4D, table, table), [q])).toEqual([1, 1]);
      expect(await dispatches((a) => dropout(a, { rate: 0.1, seed: 3 }), [x])).toEqual([1, 1]);
      const bshd = tf.tensor4d(randomValues(2 * 4 * 3 * 8, 4), [2, 4, 3, 8]);
      expect(await dispatches((a) => rope(a as tf.Tensor4D, table, table, { layout: "bshd" }), [bshd])).toEqual([1, 1]);
      bshd.dispose();
      tf.dispose([logits, targets, x, weight, up, q, table]);
    });

    it("matMul 1 / 2 (dA and dB, transposes folded in: none dispatched) in every transpose case", async () => {
      const a = tf.tensor2d(randomValues(6 * 10, 11), [6, 10]);
      const w = tf.tensor2d(randomValues(10 * 7, 12), [10, 7]);
      const wt = tf.tensor2d(randomValues(7 * 10, 13), [7, 10]);
      const at = tf.tensor2d(randomValues(10 * 6, 14), [10, 6]);
      expect(await dispatches((x, y) => matMul(x, y), [a, w])).toEqual([1, 2]);
      // LoRA's scaling and base output ride in the same kernel: still 1 / 2, and the addend's gradient is dy itself.
      const base = tf.tensor2d(randomValues(6 * 7, 15), [6, 7]);
      expect(await dispatches((x, y, c) => matMul(x, y, { alpha: 2, addend: c }), [a, w, base])).toEqual([1, 2]);
      expect(await dispatches((x, y) => matMul(x, y, { transposeB: true }), [a, wt])).toEqual([1, 2]);
      expect(await dispatches((x, y) => matMul(x, y, { transposeA: true }), [at, w])).toEqual([1, 2]);
      expect(await dispatches((x, y) => matMul(x, y, { transposeA: true, transposeB: true }), [at, wt])).toEqual([
        1, 2,
      ]);
      tf.dispose([a, w, wt, at, base]);
    });

    it("packedMatMul 1 / 1 (dx) for each format, at 1 row (a decode step: the subgroup mat-vec where the device has subgroups) and 40", async () => {
      for (const format of ["bfloat16", "int8", "nf4"] as const) {
        const packed = packWeightTensors(randomValues(24 * 128, 15), { format, outFeatures: 24, inFeatures: 128 });
        for (const rows of [1, 40]) {
          const x = tf.tensor2d(randomValues(rows * 128, 16), [rows, 128]);
          expect(await dispatches((a) => packedMatMul(a, packed), [x]), `${format}, ${rows} rows`).toEqual([1, 1]);
          x.dispose();
        }
        disposePackedWeight(packed);
      }
    });

    it("attention 1 / 4 (softmax statistics, dq, dk, dv), masked GQA or not, bhsd or bshd", async () => {
      const q = tf.tensor4d(randomValues(2 * 4 * 3 * 8, 7), [2, 4, 3, 8]);
      // k and v distinct: one tensor as both would add its two gradients (one more dispatch, not the op's).
      const k = tf.tensor4d(randomValues(2 * 2 * 5 * 8, 8), [2, 2, 5, 8]);
      const v = tf.tensor4d(randomValues(2 * 2 * 5 * 8, 10), [2, 2, 5, 8]);
      const mask = tf.tensor4d(randomValues(2 * 3 * 5, 9), [2, 1, 3, 5]);
      expect(
        await dispatches((a, b, c) => attention(a as tf.Tensor4D, b as tf.Tensor4D, c as tf.Tensor4D, mask), [q, k, v]),
      ).toEqual([1, 4]);
      expect(
        await dispatches((a, b, c) => attention(a as tf.Tensor4D, b as tf.Tensor4D, c as tf.Tensor4D, null), [q, k, v]),
      ).toEqual([1, 4]);
      // The same shapes as [batch, seq, heads, headDim]: the layout costs no dispatch.
      const [qs, ks, vs] = [q, k, v].map((t) => tf.transpose(t, [0, 2, 1, 3]));
      const bshd = { layout: "bshd" } as const;
      expect(
        await dispatches(
          (a, b, c) => attention(a as tf.Tensor4D, b as tf.Tensor4D, c as tf.Tensor4D, mask, bshd),
          [qs, ks, vs],
        ),
      ).toEqual([1, 4]);
      tf.dispose([q, k, v, mask, qs, ks, vs]);
    }, 120_000);
  },
);
