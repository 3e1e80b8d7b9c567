import * as tf from '@tensorflow/tfjs-core';

/** The global L2 norm of all gradients together, as one scalar tensor. */
export function globalNorm(grads: readonly tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => {
    const squares = grads.map((g) => tf.sum(tf.square(g)));
    return tf.sqrt(tf.addN(squares)) as tf.Scalar;
  });
}

/**
 * Scales the gradients so their global norm is at most `maxNorm`, as torch's `clip_grad_norm_`
 * does (coefficient `maxNorm / (norm + 1e-6)`, applied only when below 1). Returns new tensors
 * (the caller disposes the old ones) and the pre-clip norm.
 */
export function clipByGlobalNorm(grads: readonly tf.Tensor[], maxNorm: number): { grads: tf.Tensor[]; norm: number } {
  const normTensor = globalNorm(grads);
  const norm = normTensor.dataSync()[0];
  normTensor.dispose();
  const coefficient = maxNorm / (norm + 1e-6);
  if (!(maxNorm > 0) || coefficient >= 1 || !Number.isFinite(coefficient)) {
    return { grads: grads.map((g) => g.clone()), norm };
  }
  return { grads: tf.tidy(() => grads.map((g) => tf.mul(g, coefficient))), norm };
}
