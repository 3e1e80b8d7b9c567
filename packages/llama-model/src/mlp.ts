import * as tf from "@tensorflow/tfjs-core";
import { swiglu } from "@llamats/core";
import { applyPlus, type LinearLayer } from "./linear.js";

export interface MlpProjections {
  gate: LinearLayer;
  up: LinearLayer;
  down: LinearLayer;
}

/** SiLU(x) = x·sigmoid(x), as torch computes it. */
export function silu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(x, tf.sigmoid(x)));
}

/**
 * SwiGLU feed-forward: down(silu(gate(x)) · up(x)), the gating one llamats kernel per backend; a residual is added in
 * down_proj's kernel where the layer can.
 */
export function swigluMlp(x: tf.Tensor3D, proj: MlpProjections, residual?: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const gated = swiglu(proj.gate.apply(x), proj.up.apply(x));
    return (residual ? applyPlus(proj.down, gated, residual) : proj.down.apply(gated)) as tf.Tensor3D;
  });
}
