import * as tf from "@tensorflow/tfjs-core";
import { SeededRng } from "../seeded-rng.js";

/** Uniform values in [-scale, scale) from a fixed seed. */
export function randomValues(count: number, seed: number, scale = 1): Float32Array {
  const rng = new SeededRng(seed);
  return Float32Array.from({ length: count }, () => (rng.next() * 2 - 1) * scale);
}

/** Largest |a − b| / max(1, |b|): absolute for small values, relative for large ones. */
export function maxScaledDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i]));
    if (!(d <= worst)) worst = d; // NaN wins
  }
  return worst;
}

/** f(xs) and the gradients of sum(f(xs) · cotangent) with a fixed random cotangent, read asynchronously (webgpu cannot read synchronously in Node). */
export async function valueAndGrads(
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  xs: tf.Tensor[],
  seed = 99,
): Promise<{ value: Float32Array; grads: Float32Array[] }> {
  const value = tf.tidy(() => f(...xs));
  const cotangent = tf.tensor(randomValues(value.size, seed), value.shape);
  const grads = tf.tidy(() => tf.grads((...ys: tf.Tensor[]) => tf.sum(tf.mul(f(...ys), cotangent)))(xs));
  const out = {
    value: (await value.data()) as Float32Array,
    grads: await Promise.all(grads.map(async (g) => (await g.data()) as Float32Array)),
  };
  tf.dispose([value, cotangent, ...grads]);
  return out;
}

/** Worst scaled difference between two functions' values and between each of their gradients. */
export async function compareWithReference(
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  reference: (...xs: tf.Tensor[]) => tf.Tensor,
  xs: tf.Tensor[],
): Promise<{ value: number; grads: number[] }> {
  const got = await valueAndGrads(f, xs);
  const want = await valueAndGrads(reference, xs);
  return {
    value: maxScaledDiff(got.value, want.value),
    grads: got.grads.map((g, i) => maxScaledDiff(g, want.grads[i])),
  };
}

/**
 * Tensors alive right after the forward pass of `op` on an intermediate (2·x, freed at once unless op's backward keeps
 * it), inside a gradient computation: what the backward pass holds on to.
 */
export function tensorsHeldForBackward(x: tf.Tensor, op: (intermediate: tf.Tensor) => tf.Tensor): number {
  let count = 0;
  const grads = tf.grads((a: tf.Tensor) => {
    const y = tf.tidy(() => op(tf.mul(a, 2)));
    count = tf.memory().numTensors;
    return tf.sum(y);
  })([x]);
  tf.dispose(grads);
  return count;
}
