import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS, useBackend } from "../backend/test-backends.js";
import { ShapeMismatchError } from "../errors.js";
import { installWasmKernels, uninstallWasmKernels, wasmKernelsInstalled } from "../kernels/install-kernels.js";
import { rope, ropeReference } from "./rope.js";
import { compareWithReference, randomValues, tensorsHeldForBackward, valueAndGrads } from "./test-support.js";

const TOLERANCE = 1e-5;

/** HF-style tables: angles per position, the halves duplicated. */
function rotaryTables(tableShape: number[], seed: number): { cos: tf.Tensor; sin: tf.Tensor } {
  const dim = tableShape[tableShape.length - 1];
  const angles = randomValues(
    tableShape.reduce((a, b) => a * b, 1),
    seed,
    10,
  );
  for (let v = 0; v < angles.length; v += dim)
    for (let i = 0; i < dim / 2; i++) angles[v + dim / 2 + i] = angles[v + i];
  return { cos: tf.tensor(angles.map(Math.cos), tableShape), sin: tf.tensor(angles.map(Math.sin), tableShape) };
}

/** x shape with the tables' shape: per-batch HF [batch, 1, seq, dim], shared [seq, dim], headDims not multiples of 4. */
const CASES: [number[], number[]][] = [
  [
    [2, 3, 5, 8],
    [2, 1, 5, 8],
  ],
  [
    [2, 4, 7, 6],
    [7, 6],
  ],
  [
    [1, 2, 3, 10],
    [1, 3, 10],
  ],
  [
    [3, 1, 1, 130],
    [3, 1, 1, 130],
  ],
];

describe.each(TEST_BACKENDS)("rope on %s", (backend) => {
  beforeAll(() => useBackend(backend));

  async function compareAll(): Promise<void> {
    for (const [i, [xShape, tableShape]] of CASES.entries()) {
      const x = tf.tensor4d(
        randomValues(
          xShape.reduce((a, b) => a * b, 1),
          i + 1,
          4,
        ),
        xShape as [number, number, number, number],
      );
      const hf = rotaryTables(tableShape, i + 20);
      // General tables too (halves differ), so the transposed rotation is checked beyond HF's symmetric case.
      const general = {
        cos: tf.tensor(randomValues(hf.cos.size, i + 30), tableShape),
        sin: tf.tensor(randomValues(hf.sin.size, i + 40), tableShape),
      };
      for (const { cos, sin } of [hf, general]) {
        const diff = await compareWithReference(
          (a, c, s) => rope(a as tf.Tensor4D, c, s),
          (a, c, s) => ropeReference(a as tf.Tensor4D, c, s),
          [x, cos, sin],
        );
        expect(diff.value, `${xShape} value`).toBeLessThan(TOLERANCE);
        for (const g of diff.grads) expect(g, `${xShape} gradient`).toBeLessThan(TOLERANCE);
        // The same x as [batch, seq, heads, dim] with layout "bshd" against the bhsd kernel transposed around it.
        const bshd = tf.transpose(x, [0, 2, 1, 3]);
        const swap = (t: tf.Tensor) => tf.transpose(t, [0, 2, 1, 3]) as tf.Tensor4D;
        const layoutDiff = await compareWithReference(
          (a, c, s) => rope(a as tf.Tensor4D, c, s, { layout: "bshd" }),
          (a, c, s) => swap(rope(swap(a), c, s)),
          [bshd, cos, sin],
        );
        expect(layoutDiff.value, `${xShape} bshd value`).toBeLessThan(TOLERANCE);
        for (const g of layoutDiff.grads) expect(g, `${xShape} bshd gradient`).toBeLessThan(TOLERANCE);
        bshd.dispose();
      }
      tf.dispose([x, hf.cos, hf.sin, general.cos, general.sin]);
    }
  }

  it(
    "matches x · cos + rotate_half(x) · sin in value and in the gradients of x, cos and sin (bhsd, and bshd against bhsd transposed)",
    compareAll,
  );

  if (backend === "wasm")
    it("wasm: the JS loop (no llamats SIMD kernels) matches too", async () => {
      expect(wasmKernelsInstalled()).toBe(true); // so the test above ran llamats' SIMD path
      uninstallWasmKernels();
      try {
        await compareAll();
      } finally {
        installWasmKernels();
      }
    });

  it("constantTables: the same rotation and dx, and the backward pass keeps the tables only (x is freed)", async () => {
    const x = tf.tensor4d(randomValues(2 * 5 * 3 * 8, 3), [2, 5, 3, 8]);
    const { cos, sin } = rotaryTables([5, 8], 4);
    const options = { layout: "bshd" } as const;
    const diff = await compareWithReference(
      (a) => rope(a as tf.Tensor4D, cos, sin, { ...options, constantTables: true }),
      (a) => rope(a as tf.Tensor4D, cos, sin, options),
      [x],
    );
    expect(Math.max(diff.value, ...diff.grads)).toBeLessThan(TOLERANCE);
    const alive = (constantTables: boolean) =>
      tensorsHeldForBackward(x, (a) => rope(a as tf.Tensor4D, cos, sin, { ...options, constantTables }));
    expect(alive(true)).toBe(alive(false) - 1);
    tf.dispose([x, cos, sin]);
  });

  it("keeps tf.memory() flat and names a table that does not fit", async () => {
    const x = tf.tensor<tf.Rank.R4>(randomValues(2 * 2 * 3 * 4, 7), [2, 2, 3, 4]);
    const { cos, sin } = rotaryTables([2, 1, 3, 4], 8);
    const step = async () => (await valueAndGrads((a) => rope(a as tf.Tensor4D, cos, sin), [x])).grads[0][0];
    await step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await step();
    expect(tf.memory().numTensors).toBe(before);
    const wrong = tf.zeros([2, 1, 4, 4]);
    expect(() => rope(x, wrong, sin)).toThrow(ShapeMismatchError);
    // x [2, 2, 3, 4] read as bshd has 2 positions: the 3-position tables do not fit, and the message says the layout's axes.
    expect(() => rope(x, cos, sin, { layout: "bshd" })).toThrow(/rope: cos must be float32 \[2 or 1, 2, 4\]/);
    expect(() => rope(x, cos, sin, { layout: "bsdh" as never })).toThrow(/layout must be "bhsd" or "bshd"/);
    tf.dispose([x, cos, sin, wrong]);
  });
});
