import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { shiftedTargets, weightedCrossEntropySum } from "./cross-entropy.js";
import { TEST_BACKENDS, useBackend } from "@llamats/core/testing";

/** The unfused definition: -sum(weight * log_softmax(z)[target]). */
function plainCrossEntropySum(z: tf.Tensor2D, targets: tf.Tensor1D, weights: tf.Tensor1D): tf.Scalar {
  const onehot = tf.oneHot(targets, z.shape[1]);
  return tf.neg(tf.sum(tf.mul(tf.sum(tf.mul(tf.logSoftmax(z), onehot), 1), weights))) as tf.Scalar;
}

describe.each(TEST_BACKENDS)("weightedCrossEntropySum (%s)", (backend) => {
  it("gives the unfused value and gradient", async () => {
    await useBackend(backend);
    const z = tf.randomNormal<tf.Rank.R2>([6, 11], 0, 3, "float32", 7);
    const targets = tf.tensor1d([3, 0, 10, 5, 5, 1], "int32");
    const weights = tf.tensor1d([1, 0, 1, 1, 0, 1]);
    const fused = tf.valueAndGrad((x: tf.Tensor) =>
      tf.mul<tf.Scalar>(weightedCrossEntropySum(x, targets, weights), 0.5),
    )(z);
    const plain = tf.valueAndGrad((x: tf.Tensor) =>
      tf.mul<tf.Scalar>(plainCrossEntropySum(x as tf.Tensor2D, targets, weights), 0.5),
    )(z);
    expect((await fused.value.data())[0]).toBeCloseTo((await plain.value.data())[0], 5);
    const a = await fused.grad.data();
    const b = await plain.grad.data();
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-6);
    tf.dispose([z, targets, weights, fused.value, fused.grad, plain.value, plain.grad]);
  });

  it("shifts labels by one and skips -100 and the last position", () => {
    const { targets, weights, count } = shiftedTargets(
      [
        [5, -100, 7, 8],
        [1, 2],
      ],
      4,
    );
    expect(Array.from(targets)).toEqual([0, 7, 8, 0, 2, 0, 0, 0]);
    expect(Array.from(weights)).toEqual([0, 1, 1, 0, 1, 0, 0, 0]);
    expect(count).toBe(3);
  });
});
