import * as tf from "@tensorflow/tfjs-core";
import { ShapeMismatchError, ValidationError } from "@llamats/core";
import { TEST_BACKENDS, readScalar, useBackend } from "@llamats/core/testing";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { causalLmLoss, countLossTokens, shiftLabels } from "./causal-lm-loss.js";

const LABELS = [
  [-100, 3, 7, -100, 10, 0],
  [-100, -100, -100, 4, 4, 9],
  [5, -100, -100, -100, -100, -100],
];
const [BATCH, SEQ, VOCAB] = [3, 6, 11];

/** Plain double-precision sum of −log softmax(logits[b, t])[labels[b, t + 1]] over counted tokens, and the count. */
function referenceSum(logits: Float32Array): { sum: number; count: number } {
  let sum = 0;
  let count = 0;
  for (let b = 0; b < BATCH; b++) {
    for (let t = 0; t + 1 < SEQ; t++) {
      const label = LABELS[b][t + 1];
      if (label === -100) continue;
      const row = logits.subarray((b * SEQ + t) * VOCAB, (b * SEQ + t + 1) * VOCAB);
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
      sum += lse - row[label];
      count++;
    }
  }
  return { sum, count };
}

describe.each(TEST_BACKENDS)("causalLmLoss on %s", (backend) => {
  beforeAll(() => useBackend(backend));

  const values = Float32Array.from({ length: BATCH * SEQ * VOCAB }, (_, i) => Math.sin(i * 1.7) * 4);

  it("gives the same mean and sum from array labels and from int32 or float32 tensor labels", async () => {
    const logits = tf.tensor3d(values, [BATCH, SEQ, VOCAB]);
    const { sum, count } = referenceSum(values);
    expect(countLossTokens(LABELS)).toBe(count);
    for (const labels of [LABELS, tf.tensor2d(LABELS, undefined, "int32"), tf.tensor2d(LABELS)]) {
      const mean = await readScalar(causalLmLoss(logits, labels));
      const total = await readScalar(causalLmLoss(logits, labels, { reduction: "sum" }));
      expect(Math.abs(mean - sum / count) / (sum / count)).toBeLessThan(1e-5);
      expect(Math.abs(total - sum) / sum).toBeLessThan(1e-5);
      if (labels instanceof tf.Tensor) labels.dispose();
    }
    logits.dispose();
  });

  it("never reads tensor labels back to the host, in the loss or its gradient", async () => {
    const logits = tf.tensor3d(values, [BATCH, SEQ, VOCAB]);
    const labels = tf.tensor2d(LABELS, undefined, "int32");
    const spies = (["dataSync", "arraySync", "bufferSync", "data", "array", "buffer"] as const).map((m) =>
      vi.spyOn(labels, m),
    );
    // On webgpu a synchronous read is a GPU stall; on cpu and wasm the kernels read their own memory, which is fine.
    const readSync = backend === "webgpu" ? vi.spyOn(tf.backend(), "readSync") : null;
    const trained = tf.variable<tf.Rank.R3>(logits);
    const { value, grads } = tf.variableGrads(() => causalLmLoss(trained, labels), [trained]);
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    if (readSync) expect(readSync).not.toHaveBeenCalled();
    expect(Number.isFinite(await readScalar(value))).toBe(true);
    tf.dispose([logits, labels, trained, ...Object.values(grads)]);
    for (const spy of [...spies, ...(readSync ? [readSync] : [])]) spy.mockRestore();
  });

  it("is NaN (mean) or 0 (sum) when no token counts, and checks labels", async () => {
    const logits = tf.tensor3d(values, [BATCH, SEQ, VOCAB]);
    const none = LABELS.map((r) => r.map(() => -100));
    expect(Number.isNaN(await readScalar(causalLmLoss(logits, none)))).toBe(true);
    expect(await readScalar(causalLmLoss(logits, none, { reduction: "sum" }))).toBe(0);
    const outside = LABELS.map((r) => [...r]);
    outside[1][4] = VOCAB;
    expect(() => causalLmLoss(logits, outside)).toThrow(/labels\[1\]\[4\] is 11, outside the vocabulary/);
    const wrong = tf.zeros<tf.Rank.R2>([BATCH, SEQ + 1], "int32");
    expect(() => causalLmLoss(logits, wrong)).toThrow(ShapeMismatchError);
    expect(() => countLossTokens(wrong as never)).toThrow(ValidationError);
    tf.dispose([logits, wrong]);
  });

  it("shiftLabels: position t gets labels[t + 1], the last position of each row -100", async () => {
    const targets = shiftLabels([
      [5, -100, 7, 8],
      [1, 2, -100, -100],
    ]);
    expect(Array.from(await targets.data())).toEqual([-100, 7, 8, -100, 2, -100, -100, -100]);
    targets.dispose();
  });
});
