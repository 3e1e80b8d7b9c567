import { matMul } from "@llamats/core";
import type * as tf from "@tensorflow/tfjs-core";

/**
 * x [n, in] · Wᵀ → [n, out]: core's matMul op (a tiled kernel on webgpu), whose gradient gives dX = dY·W and
 * dW = dYᵀ·X as products with the transposes folded in; dW is computed only when W is on the gradient's path.
 */
export function denseMatMul(x: tf.Tensor2D, weight: tf.Tensor2D): tf.Tensor2D {
  return matMul(x, weight, { transposeB: true }) as tf.Tensor2D;
}
