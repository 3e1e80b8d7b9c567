import * as tf from "@tensorflow/tfjs-core";
import { softmaxCrossEntropy } from "@llamats/core";

/** The label that marks a position as not counted (transformers' `ignore_index`). */
export const IGNORE_INDEX = -100;

/**
 * Causal-LM targets for a batch: position t predicts labels[t+1]; the last position and
 * ignored labels get weight 0. Returns the flat target ids (ignored → 0), their weights and the count.
 */
export function shiftedTargets(
  labels: readonly (readonly number[])[],
  seqLen: number,
): { targets: Int32Array; weights: Float32Array; count: number } {
  const targets = new Int32Array(labels.length * seqLen);
  const weights = new Float32Array(labels.length * seqLen);
  let count = 0;
  labels.forEach((row, b) => {
    for (let t = 0; t + 1 < seqLen; t++) {
      const label = t + 1 < row.length ? row[t + 1] : IGNORE_INDEX;
      if (label === IGNORE_INDEX) continue;
      targets[b * seqLen + t] = label;
      weights[b * seqLen + t] = 1;
      count += 1;
    }
  });
  return { targets, weights, count };
}

/**
 * Sum over positions of `weight * -log softmax(logits)[target]`, differentiable in `logits`: @llamats/core's
 * softmax cross-entropy op (one kernel per backend; its gradient `(softmax - onehot) * weight` builds no one-hot).
 */
export function weightedCrossEntropySum(logits: tf.Tensor, targets: tf.Tensor1D, weights: tf.Tensor1D): tf.Scalar {
  const vocab = logits.shape[logits.shape.length - 1];
  return tf.tidy(() =>
    tf.sum<tf.Scalar>(softmaxCrossEntropy(tf.reshape<tf.Rank.R2>(logits, [-1, vocab]), targets, { weights })),
  );
}
