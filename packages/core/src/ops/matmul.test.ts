import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS, useBackend } from "../backend/test-backends.js";
import { ShapeMismatchError } from "../errors.js";
import { matMul } from "./matmul.js";
import { MATMUL } from "./matmul.kernels.js";
import { chooseTile, MATMUL_TILES, tileStorageBytes, type MatMulLimits } from "./matmul.webgpu.js";
import { compareWithReference, maxScaledDiff, randomValues, tensorsHeldForBackward } from "./test-support.js";

/** float32 sums of up to ~300 products of values in [-1, 1], in a different order than tfjs's. */
const TOLERANCE = 2e-5;

/** [a shape, b shape, transposeA, transposeB]: odd sizes (scalar loads, edge tiles), multiples of 4 (vec4), batches. */
const CASES: [number[], number[], boolean, boolean][] = [
  [[37, 19], [19, 23], false, false],
  [[19, 37], [19, 23], true, false],
  [[37, 19], [23, 19], false, true],
  [[19, 37], [23, 19], true, true],
  [[68, 36], [36, 132], false, false],
  [[36, 68], [132, 36], true, true],
  [[68, 36], [132, 36], false, true],
  [[36, 68], [36, 132], true, false],
  [[2, 3, 9, 12], [12, 20], false, false], // rows of every batch against one weight (folded)
  [[3, 12, 9], [20, 12], true, true], // a batch against one weight, transposed A (broadcast in the kernel)
  [[16, 12], [3, 12, 8], false, false], // one matrix against a batch
  [[2, 3, 5, 7], [2, 3, 7, 6], false, false],
  [[1, 300], [300, 130], false, false], // a decode step: one row
];

/** tf.matMul with the batch broadcast made explicit (tfjs's own matMul gradient does not sum over a broadcast batch). */
const reference = (ta: boolean, tb: boolean) => (a: tf.Tensor, b: tf.Tensor) => {
  const outer = a.size / (a.shape.at(-1)! * a.shape.at(-2)!) >= b.size / (b.shape.at(-1)! * b.shape.at(-2)!) ? a : b;
  const lead = outer.shape.slice(0, -2);
  const full = (t: tf.Tensor) => (t === outer ? t : tf.broadcastTo(t, [...lead, ...t.shape.slice(-2)]));
  return tf.matMul(full(a), full(b), ta, tb);
};

/** CASES[i]'s a and b, filled from seeds of their own. */
function operands(i: number): [tf.Tensor, tf.Tensor] {
  const [aShape, bShape] = CASES[i];
  const filled = (shape: number[], seed: number) =>
    tf.tensor(
      randomValues(
        shape.reduce((x, y) => x * y),
        seed,
      ),
      shape,
    );
  return [filled(aShape, i + 1), filled(bShape, i + 100)];
}

describe.each(TEST_BACKENDS)("matMul on %s", (backend) => {
  beforeAll(() => useBackend(backend));

  it("matches tf.matMul in value, dA and dB for every transpose case, odd shapes and broadcast batches", async () => {
    for (const [i, [aShape, bShape, ta, tb]] of CASES.entries()) {
      const [a, b] = operands(i);
      const diff = await compareWithReference(
        (x, y) => matMul(x, y, { transposeA: ta, transposeB: tb }),
        reference(ta, tb),
        [a, b],
      );
      const label = `[${aShape}]${ta ? "ᵀ" : ""} · [${bShape}]${tb ? "ᵀ" : ""}`;
      expect(diff.value, `${label} value`).toBeLessThan(TOLERANCE);
      expect(diff.grads[0], `${label} dA`).toBeLessThan(TOLERANCE);
      expect(diff.grads[1], `${label} dB`).toBeLessThan(TOLERANCE);
      tf.dispose([a, b]);
    }
  }, 300_000);

  it("alpha · op(a)·op(b) + addend in one kernel: value and the gradients of a, b and the addend", async () => {
    // Every transpose case, scalar and vec4 stores, a folded batch, a batch and a decode row (fewer shaders to build).
    for (const i of [0, 1, 2, 3, 6, 8, 11, 12]) {
      const [aShape, bShape, ta, tb] = CASES[i];
      const [a, b] = operands(i);
      const outShape = tf.tidy(() => reference(ta, tb)(a, b).shape);
      const c = tf.tensor(
        randomValues(
          outShape.reduce((x, y) => x * y),
          i + 200,
        ),
        outShape,
      );
      const alpha = i % 2 === 0 ? 2 : -0.375;
      const diff = await compareWithReference(
        (x, y, z) => matMul(x, y, { transposeA: ta, transposeB: tb, alpha, addend: z }),
        (x, y, z) => tf.add(tf.mul(reference(ta, tb)(x, y), alpha), z),
        [a, b, c],
      );
      const label = `${alpha} · [${aShape}]${ta ? "ᵀ" : ""} · [${bShape}]${tb ? "ᵀ" : ""} + addend`;
      expect(diff.value, `${label} value`).toBeLessThan(TOLERANCE);
      diff.grads.forEach((g, j) => expect(g, `${label} d${"abc"[j]}`).toBeLessThan(TOLERANCE));
      const scaledOnly = await compareWithReference(
        (x, y) => matMul(x, y, { transposeA: ta, transposeB: tb, alpha }),
        (x, y) => tf.mul(reference(ta, tb)(x, y), alpha),
        [a, b],
      );
      expect(Math.max(scaledOnly.value, ...scaledOnly.grads), `${label} without addend`).toBeLessThan(TOLERANCE);
      tf.dispose([a, b, c]);
    }
    const a = tf.zeros([4, 3]);
    const w = tf.zeros([3, 5]);
    expect(() => matMul(a, w, { addend: tf.zeros([5, 4]) })).toThrow(
      "addend must be float32 of the product's shape [4,5], found float32 [5,4].",
    );
    tf.dispose([a, w]);
  }, 300_000);

  it("constantB: the same product and dA, and the backward pass keeps b only (a is freed after the forward pass)", async () => {
    const a = tf.tensor(randomValues(2 * 9 * 12, 1), [2, 9, 12]);
    const w = tf.tensor(randomValues(20 * 12, 2), [20, 12]);
    const c = tf.tensor(randomValues(2 * 9 * 20, 3), [2, 9, 20]);
    const diff = await compareWithReference(
      (x, z) => matMul(x, w, { transposeB: true, constantB: true, alpha: 1.5, addend: z }),
      (x, z) => matMul(x, w, { transposeB: true, alpha: 1.5, addend: z }),
      [a, c],
    );
    expect(Math.max(diff.value, ...diff.grads)).toBeLessThan(TOLERANCE);
    // Tensors alive after the forward pass, inside the gradient computation: one fewer (the saved a).
    const alive = (constantB: boolean) =>
      tensorsHeldForBackward(a, (x) => matMul(x, w, { transposeB: true, constantB }));
    expect(alive(true)).toBe(alive(false) - 1);
    tf.dispose([a, w, c]);
  });

  if (backend === "webgpu")
    it("every tile shape gives tf.matMul's values, across several tiles and a partial edge tile", async () => {
      // Sizes past one 128-row tile with ragged edges, in each layout: the default choice picks the small tile here.
      // Two of the eight layouts (transposeA × transposeB × vec4 or scalar loads) per square tile, all eight in all;
      // two more for the row tile.
      const layouts: [number[], number[], boolean, boolean][] = [
        [[130, 44], [44, 260], false, false],
        [[45, 130], [259, 45], true, true],
        [[130, 45], [45, 259], false, false],
        [[44, 132], [260, 44], true, true],
        [[132, 44], [260, 44], false, true],
        [[45, 130], [45, 259], true, false],
        [[131, 45], [259, 45], false, true],
        [[44, 132], [44, 260], true, false],
        [[3, 44], [44, 260], false, false], // the row tile: one to four rows (a decode step)
        [[45, 1], [259, 45], true, true],
      ];
      for (const [tile] of MATMUL_TILES.entries()) {
        for (const [i, [aShape, bShape, ta, tb]] of layouts.slice(tile * 2, tile * 2 + 2).entries()) {
          const a = tf.tensor3d(randomValues(aShape[0] * aShape[1], i + 7), [1, aShape[0], aShape[1]]);
          const b = tf.tensor3d(randomValues(bShape[0] * bShape[1], i + 70), [1, bShape[0], bShape[1]]);
          const got = tf.engine().runKernel<tf.Tensor>(MATMUL, { a, b }, { transposeA: ta, transposeB: tb, tile });
          const want = tf.matMul(a, b, ta, tb);
          const diff = maxScaledDiff(await got.data(), await want.data());
          expect(diff, `tile ${JSON.stringify(MATMUL_TILES[tile])} [${aShape}]·[${bShape}]`).toBeLessThan(TOLERANCE);
          tf.dispose([a, b, got, want]);
        }
      }
    }, 300_000);

  it("keeps tf.memory() flat over steps and rejects shapes that do not fit", async () => {
    const a = tf.tensor(randomValues(3 * 8 * 6, 1), [3, 8, 6]);
    const w = tf.tensor(randomValues(5 * 6, 2), [5, 6]);
    const step = async () => {
      const g = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(matMul(x, y, { transposeB: true })))([a, w]);
      await Promise.all(g.map((t) => t.data()));
      tf.dispose(g);
    };
    await step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await step();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => matMul(a, w)).toThrow(ShapeMismatchError);
    expect(() => matMul(a, w)).toThrow("inner dimensions differ: a [3,8,6] has 6, b [5,6] has 5.");
    const other = tf.zeros([2, 6, 4]);
    expect(() => matMul(a, other)).toThrow("leading (batch) dimensions must match");
    expect(() => matMul(tf.zeros([6], "float32"), w)).toThrow("a must be a float32 matrix");
    tf.dispose([a, w, other]);
  });
});

describe("chooseTile", () => {
  const webgpuMinimum: MatMulLimits = {
    maxComputeWorkgroupStorageSize: 16384,
    maxComputeInvocationsPerWorkgroup: 256,
    maxComputeWorkgroupSizeX: 256,
    maxComputeWorkgroupSizeY: 256,
    maxComputeWorkgroupsPerDimension: 65535,
  };

  it("takes the largest tile the limits allow when the product still fills the GPU, else a smaller one", () => {
    expect(tileStorageBytes(MATMUL_TILES[0])).toBe(32768);
    expect(chooseTile(webgpuMinimum, 4096, 4096, 1)).toEqual(MATMUL_TILES[1]); // 32 KiB does not fit 16 KiB
    expect(chooseTile({ ...webgpuMinimum, maxComputeWorkgroupStorageSize: 49152 }, 4096, 4096, 1)).toEqual(
      MATMUL_TILES[0],
    );
    expect(chooseTile(webgpuMinimum, 512, 2048, 1)).toEqual(MATMUL_TILES[2]); // 64 tiles of 128² would idle SMs
    expect(chooseTile(webgpuMinimum, 64, 4096, 1)).toEqual(MATMUL_TILES[3]);
    expect(chooseTile(webgpuMinimum, 1, 32000, 1)).toEqual(MATMUL_TILES[4]); // decode: 4 × 256
    expect(chooseTile(webgpuMinimum, 4, 64, 1)).toEqual(MATMUL_TILES[4]);
    expect(tileStorageBytes(MATMUL_TILES[4])).toBeLessThanOrEqual(16384);
    expect(chooseTile({ ...webgpuMinimum, maxComputeInvocationsPerWorkgroup: 64 }, 4096, 4096, 1)).toEqual(
      MATMUL_TILES[3],
    );
  });
});
