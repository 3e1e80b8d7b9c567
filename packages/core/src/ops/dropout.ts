import * as tf from "@tensorflow/tfjs-core";
import { ConfigError, ShapeMismatchError } from "../errors.js";
import { DROPOUT } from "./dropout.kernels.js";
import { dropoutKeeps, dropoutScale, dropoutThreshold } from "./dropout-mask.js";
import { hasLlamatsKernel } from "./registry.js";

export interface DropoutOptions {
  /** The probability an element is zeroed, in [0, 1); kept elements are scaled by 1 / (1 − rate), as torch does. */
  rate: number;
  /** 32 bits that fix the mask (core's dropout stream hands them out: `nextDropoutSeed`). */
  seed: number;
}

/**
 * Dropout whose mask is hashed from (seed, element index) in the kernel: one dispatch on webgpu, no random tensor
 * made on the host, the same mask on every backend, and a gradient (the same kernel on dy) that needs nothing saved.
 * A recomputation with the same seed (gradient checkpointing) sees the same mask.
 */
export function dropout(x: tf.Tensor, options: DropoutOptions): tf.Tensor {
  const { rate, seed } = options;
  if (!(rate >= 0 && rate < 1))
    throw new ConfigError(`dropout: rate must be in [0, 1), found ${rate}.`, { key: "rate" });
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new ConfigError(`dropout: seed must be an integer in [0, 2^32), found ${seed}.`, { key: "seed" });
  if (x.dtype !== "float32")
    throw new ShapeMismatchError(`dropout: x must be float32, found ${x.dtype} [${x.shape}].`, {
      tensor: "x",
      expected: [...x.shape],
      found: [...x.shape],
    });
  if (rate === 0) return tf.clone(x);
  const attrs = { seed, threshold: dropoutThreshold(rate), scale: dropoutScale(rate) };
  if (!hasLlamatsKernel(DROPOUT)) return dropoutReference(x, attrs);
  return tf.engine().runKernel<tf.Tensor>(DROPOUT, { x }, attrs);
}

/** The same product from plain tfjs ops, the mask made on the host (tfjs has no integer hashing): the tensorflow backend. */
function dropoutReference(x: tf.Tensor, attrs: { seed: number; threshold: number; scale: number }): tf.Tensor {
  const values = new Float32Array(x.size);
  for (let i = 0; i < x.size; i++) values[i] = dropoutKeeps(attrs.seed, i, attrs.threshold) ? attrs.scale : 0;
  return tf.tidy(() => tf.mul(x, tf.tensor(values, x.shape)));
}
