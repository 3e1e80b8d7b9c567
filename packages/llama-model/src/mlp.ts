import * as tf from "@tensorflow/tfjs-core";
import { swiglu } from "@llamats/core";
import type { LinearLayer } from "./linear.js";

export interface MlpProjections {
  gate: LinearLayer;
  up: LinearLayer;
  down: LinearLayer;
}

/** SiLU(x) = x·sigmoid(x), as torch computes it. */
export function silu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(x, tf.sigmoid(x)));
}

/** SwiGLU feed-forward: down(silu(gate(x)) · up(x)), the gating one llamats kernel per backend. */
export function swigluMlp(x: tf.Tensor3D, proj: MlpProjections): tf.Tensor3D {
  return tf.tidy(() => proj.down.apply(swiglu(proj.gate.apply(x), proj.up.apply(x))) as tf.Tensor3D);
}
