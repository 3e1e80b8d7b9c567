import * as tf from '@tensorflow/tfjs-core';

/** HF LlamaRMSNorm: x · rsqrt(mean(x²) + eps) · weight, over the last axis, in float32. */
export function rmsNorm(x: tf.Tensor, weight: tf.Tensor, eps: number): tf.Tensor {
  return tf.tidy(() => {
    const variance = tf.mean(tf.square(x), -1, true);
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(variance, eps))), weight);
  });
}
