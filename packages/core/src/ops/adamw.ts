import * as tf from "@tensorflow/tfjs-core";
import { ShapeMismatchError } from "../errors.js";
import { ADAMW_MOMENTS, ADAMW_PARAM } from "./adamw.kernels.js";
import { hasLlamatsKernel } from "./registry.js";

export interface AdamWUpdateOptions {
  lr: number;
  /** The update's number, from 1 (the `t` of the bias corrections). */
  step: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Decoupled weight decay: `p -= lr · weightDecay · p` before the Adam update. */
  weightDecay: number;
}

export interface AdamWUpdate {
  param: tf.Tensor;
  /** [2, ...param.shape]: exp_avg then exp_avg_sq. */
  moments: tf.Tensor;
}

function check(param: tf.Tensor, grad: tf.Tensor, moments: tf.Tensor): void {
  const expected = [2, ...param.shape];
  const bad = (t: tf.Tensor, shape: readonly number[]) =>
    t.dtype !== "float32" || !tf.util.arraysEqual(t.shape, [...shape]);
  for (const [name, t, shape] of [
    ["param", param, param.shape],
    ["grad", grad, param.shape],
    ["moments", moments, expected],
  ] as const) {
    if (bad(t, shape))
      throw new ShapeMismatchError(
        `adamwUpdate: ${name} must be float32 [${shape}] (param [${param.shape}]), found ${t.dtype} [${t.shape}].`,
        { tensor: name, expected: [...shape], found: [...t.shape] },
      );
  }
}

/**
 * One AdamW step for one parameter, with torch.optim.AdamW's semantics (bias-corrected moments, eps outside the
 * square root, decoupled weight decay): two llamats kernels on cpu, wasm and webgpu (the moments, then the
 * parameter from them: one dispatch each on webgpu, each reading and writing every element once).
 */
export function adamwUpdate(
  param: tf.Tensor,
  grad: tf.Tensor,
  moments: tf.Tensor,
  options: AdamWUpdateOptions,
): AdamWUpdate {
  check(param, grad, moments);
  if (!hasLlamatsKernel(ADAMW_MOMENTS)) return adamwUpdateReference(param, grad, moments, options);
  const attrs = updateAttrs(options);
  const newMoments = tf.engine().runKernel<tf.Tensor>(ADAMW_MOMENTS, { grad, moments }, attrs);
  const newParam = tf.engine().runKernel<tf.Tensor>(ADAMW_PARAM, { param, moments: newMoments }, attrs);
  return { param: newParam, moments: newMoments };
}

function updateAttrs(o: AdamWUpdateOptions): tf.NamedAttrMap {
  return {
    beta1: o.beta1,
    beta2: o.beta2,
    epsilon: o.epsilon,
    decay: o.weightDecay !== 0 && o.lr !== 0 ? 1 - o.lr * o.weightDecay : 1,
    stepSize: o.lr / (1 - o.beta1 ** o.step),
    biasCorrection2Sqrt: Math.sqrt(1 - o.beta2 ** o.step),
  };
}

/** The same from plain tfjs ops (what the trainer ran before): the fallback without llamats kernels, and the tests' reference. */
export function adamwUpdateReference(
  param: tf.Tensor,
  grad: tf.Tensor,
  moments: tf.Tensor,
  options: AdamWUpdateOptions,
): AdamWUpdate {
  return tf.tidy(() => {
    const { beta1, beta2, epsilon, lr, weightDecay, step } = options;
    const [expAvgOld, expAvgSqOld] = tf.unstack(moments);
    const decayed = weightDecay !== 0 && lr !== 0 ? tf.mul(param, 1 - lr * weightDecay) : param;
    const expAvg = tf.add(tf.mul(expAvgOld, beta1), tf.mul(grad, 1 - beta1));
    const expAvgSq = tf.add(tf.mul(expAvgSqOld, beta2), tf.mul(tf.square(grad), 1 - beta2));
    const denom = tf.add(tf.div(tf.sqrt(expAvgSq), Math.sqrt(1 - beta2 ** step)), epsilon);
    const updated = tf.sub(decayed, tf.mul(tf.div(expAvg, denom), lr / (1 - beta1 ** step)));
    return { param: updated, moments: tf.stack([expAvg, expAvgSq]) };
  });
}
