import * as tf from "@tensorflow/tfjs-core";

/** The global L2 norm of all gradients together, as one scalar tensor. */
export function globalNorm(grads: readonly tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => {
    // A chain of adds, not addN: tfjs-webgpu's AddN gives wrong sums past the adapter's storage-buffer limit (~8 inputs).
    const total = grads.reduce<tf.Tensor>((sum, g) => tf.add(sum, tf.sum(tf.square(g))), tf.scalar(0));
    return tf.sqrt(total) as tf.Scalar;
  });
}

/**
 * Scales the gradients so their global norm is at most `maxNorm`, as torch's `clip_grad_norm_` does
 * (coefficient `maxNorm / (norm + 1e-6)`, applied only when below 1), on the device: nothing is read back.
 * A NaN norm leaves the gradients unscaled. Returns new tensors (the caller disposes the old ones and the norm).
 */
export function clipByGlobalNorm(
  grads: readonly tf.Tensor[],
  maxNorm: number,
): { grads: tf.Tensor[]; norm: tf.Scalar } {
  const norm = globalNorm(grads);
  if (!(maxNorm > 0)) return { grads: grads.map((g) => g.clone()), norm };
  const scaled = tf.tidy(() => {
    const coefficient = tf.minimum(tf.div(maxNorm, tf.add(norm, 1e-6)), 1);
    const safe = tf.where(tf.isNaN(coefficient), tf.onesLike(coefficient), coefficient);
    return grads.map((g) => tf.mul(g, safe));
  });
  return { grads: scaled, norm };
}
