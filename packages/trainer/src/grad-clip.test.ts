import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { clipByGlobalNorm } from "./grad-clip.js";
import { TEST_BACKENDS, useBackend } from "@llamats/core/testing";

describe.each(TEST_BACKENDS)("clipByGlobalNorm (%s)", (backend) => {
  it("scales by maxNorm / (norm + 1e-6) only when the norm is larger, and reports the pre-clip norm", async () => {
    await useBackend(backend);
    const a = tf.tensor1d([3, 0]);
    const b = tf.tensor1d([4]);
    const clipped = clipByGlobalNorm([a, b], 1);
    expect((await clipped.norm.data())[0]).toBeCloseTo(5, 6);
    expect((await clipped.grads[0].data())[0]).toBeCloseTo((3 * 1) / (5 + 1e-6), 6);
    const untouched = clipByGlobalNorm([a, b], 10);
    expect(Array.from(await untouched.grads[1].data())).toEqual([4]);
    tf.dispose([a, b, ...clipped.grads, ...untouched.grads, clipped.norm, untouched.norm]);
  });

  it("sums the squares of many tensors (more than a GPU kernel can bind at once)", async () => {
    await useBackend(backend);
    const grads = Array.from({ length: 29 }, (_, i) => tf.fill([3], i + 1));
    const clipped = clipByGlobalNorm(grads, 0);
    const want = Math.sqrt(grads.reduce((sum, _, i) => sum + 3 * (i + 1) ** 2, 0));
    expect((await clipped.norm.data())[0]).toBeCloseTo(want, 3);
    tf.dispose([...grads, ...clipped.grads, clipped.norm]);
  });
});
