import * as tf from '@tensorflow/tfjs-core';
import { fusedCrossEntropy } from '@llamats/core';

/** The label that marks a position as not counted (transformers' `ignore_index`). */
export const IGNORE_INDEX = -100;

/**
 * Causal-LM targets for a batch: position t predicts labels[t+1]; the last position and
 * ignored labels get weight 0. Returns the flat target ids (ignored → 0), their weights and the count.
 */
export function shiftedTargets(labels: readonly (readonly number[])[], seqLen: number): { targets: Int32Array; weights: Float32Array; count: number } {
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
 * Sum over positions of `weight * -log softmax(logits)[target]`, differentiable in `logits`.
 * Fused: log-softmax is computed once, and the gradient is `(softmax - onehot) * weight` without
 * materializing the full-vocabulary one-hot twice.
 */
export function weightedCrossEntropySum(logits: tf.Tensor, targets: tf.Tensor1D, weights: tf.Tensor1D): tf.Scalar {
  const vocab = logits.shape[logits.shape.length - 1];
  const flat = tf.reshape(logits, [-1, vocab]) as tf.Tensor2D;
  // llamats' wasm kernel: one pass per row for the loss and one for its gradient.
  const perRow = fusedCrossEntropy(flat, targets);
  if (perRow) return tf.sum(tf.mul(perRow, weights)) as tf.Scalar;
  const fused = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const z = args[0] as tf.Tensor2D;
    const save = args[1] as tf.GradSaveFunc;
    const logZ = tf.logSumExp(z, 1, true);
    const picked = tf.reshape(pickColumns(z, targets), [-1, 1]);
    const value = tf.sum(tf.mul(tf.reshape(tf.sub(logZ, picked), [-1]), weights)) as tf.Scalar;
    save([z, logZ]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [zSaved, logZSaved] = saved;
        const scale = tf.reshape(tf.mul(weights, dy), [-1, 1]);
        const softmax = tf.exp(tf.sub(zSaved, logZSaved));
        // int32 one-hot then cast: tfjs-wasm 4.22 writes float32 one-hots with integer bit patterns.
        const onehot = tf.cast(tf.oneHot(targets, vocab), 'float32');
        return tf.mul(tf.sub(softmax, onehot), scale);
      },
    };
  });
  return fused(flat) as tf.Scalar;
}

/** z[i, targets[i]] for every row i, without a full one-hot. */
function pickColumns(z: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  const [rows, vocab] = z.shape;
  const flatIndex = tf.add(tf.mul(tf.range(0, rows, 1, 'int32'), tf.scalar(vocab, 'int32')), targets);
  return tf.gather(tf.reshape(z, [-1]), flatIndex) as tf.Tensor1D;
}
