import * as tf from "@tensorflow/tfjs-core";
import { ShapeMismatchError } from "../errors.js";
import { hasLlamatsKernel } from "./registry.js";
import { RMS_NORM } from "./rms-norm.kernels.js";

/**
 * HF's LlamaRMSNorm over the last axis: x · rsqrt(mean(x²) + eps) · weight, in float32. One llamats kernel on cpu,
 * wasm and webgpu; its gradient is one kernel for dx and one for dweight (skipped when the weight is frozen).
 */
export function rmsNorm(x: tf.Tensor, weight: tf.Tensor, eps: number): tf.Tensor {
  const hidden = x.shape[x.rank - 1];
  if (
    x.rank < 1 ||
    x.dtype !== "float32" ||
    weight.rank !== 1 ||
    weight.shape[0] !== hidden ||
    weight.dtype !== "float32"
  ) {
    throw new ShapeMismatchError(
      `rmsNorm: expected float32 x [..., hidden] and weight [hidden], found x ${x.dtype} [${x.shape}] and weight ${weight.dtype} [${weight.shape}].`,
      {
        tensor: "weight",
        expected: [hidden],
        found: weight.shape,
      },
    );
  }
  if (!hasLlamatsKernel(RMS_NORM)) return rmsNormReference(x, weight, eps);
  return tf.engine().runKernel<tf.Tensor>(RMS_NORM, { x, weight }, { eps });
}

/** The same from plain tfjs ops: the fallback on backends without llamats kernels, and the tests' reference. */
export function rmsNormReference(x: tf.Tensor, weight: tf.Tensor, eps: number): tf.Tensor {
  return tf.tidy(() => {
    const variance = tf.mean(tf.square(x), -1, true);
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(variance, eps))), weight);
  });
}
