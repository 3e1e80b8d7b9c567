import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS, useBackend } from "../backend/test-backends.js";
import { rmsNorm, rmsNormReference } from "./rms-norm.js";
import { swiglu, swigluReference } from "./swiglu.js";
import { maxScaledDiff, randomValues } from "./test-support.js";

// WebGPU allows 65535 workgroups per dimension; tfjs folds larger dispatches into y and z, which the programs must undo.
describe.each(TEST_BACKENDS.filter((b) => b === "webgpu"))("webgpu programs past 65535 workgroups", () => {
  beforeAll(() => useBackend("webgpu"));

  // ~4 s of software-GPU work alone, past vitest's 5 s default when the shared 2-core machine is busy.
  it("elementwise (swiglu over 64 · 65536 + 5 elements) and per-row (rmsNorm over 65539 rows)", async () => {
    const n = 64 * 65536 + 5;
    const gate = tf.tensor1d(randomValues(n, 1, 4));
    const up = tf.tensor1d(randomValues(n, 2));
    const x = tf.tensor2d(randomValues(65539 * 3, 3), [65539, 3]);
    const weight = tf.tensor1d([0.5, 1, 2]);
    const pairs = [
      [swiglu(gate, up), swigluReference(gate, up)],
      [rmsNorm(x, weight, 1e-6), rmsNormReference(x, weight, 1e-6)],
    ];
    for (const [got, want] of pairs) expect(maxScaledDiff(await got.data(), await want.data())).toBeLessThan(1e-5);
    tf.dispose([gate, up, x, weight, ...pairs.flat()]);
  }, 60_000);
});
