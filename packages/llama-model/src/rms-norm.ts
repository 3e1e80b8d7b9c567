import type * as tf from "@tensorflow/tfjs-core";
import { rmsNorm as rmsNormOp } from "@llamats/core";

/** HF LlamaRMSNorm: x · rsqrt(mean(x²) + eps) · weight, over the last axis, in float32 (one llamats kernel per backend). */
export function rmsNorm(x: tf.Tensor, weight: tf.Tensor, eps: number): tf.Tensor {
  return rmsNormOp(x, weight, eps);
}
