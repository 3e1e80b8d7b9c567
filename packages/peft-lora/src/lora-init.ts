import * as tf from "@tensorflow/tfjs-core";
import type { LoraInitialization } from "./lora-config.js";

export interface LoraInitOptions {
  rank: number;
  inFeatures: number;
  outFeatures: number;
  init: LoraInitialization;
  /** Seed for A (B uses seed + 1); unseeded when absent. */
  seed?: number;
}

/** Initial lora_A `[r, in]` and lora_B `[out, r]` as PEFT's `reset_lora_parameters` makes them. */
export function initialLoraWeights(options: LoraInitOptions): { loraA: tf.Tensor2D; loraB: tf.Tensor2D } {
  const { rank, inFeatures, outFeatures, init, seed } = options;
  // kaiming_uniform_(a=√5) on a [r, in] weight: bound = √(1/3)·√(3/in) = 1/√in.
  const boundA = 1 / Math.sqrt(inFeatures);
  const seedB = seed === undefined ? undefined : seed + 1;
  if (init === "gaussian") {
    return {
      loraA: tf.randomNormal<tf.Rank.R2>([rank, inFeatures], 0, 1 / rank, "float32", seed),
      loraB: tf.zeros([outFeatures, rank]),
    };
  }
  const loraA = tf.randomUniform<tf.Rank.R2>([rank, inFeatures], -boundA, boundA, "float32", seed);
  if (init === false) {
    // PEFT leaves nn.Linear's own initialization on both matrices: B gets bound 1/√r.
    const boundB = 1 / Math.sqrt(rank);
    return { loraA, loraB: tf.randomUniform<tf.Rank.R2>([outFeatures, rank], -boundB, boundB, "float32", seedB) };
  }
  return { loraA, loraB: tf.zeros([outFeatures, rank]) };
}

/** alpha / r, or alpha / √r with rsLoRA. */
export function loraScaling(options: { rank: number; alpha: number; useRslora: boolean }): number {
  return options.useRslora ? options.alpha / Math.sqrt(options.rank) : options.alpha / options.rank;
}
