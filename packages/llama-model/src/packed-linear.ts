import * as tf from "@tensorflow/tfjs-core";
import { disposePackedWeight, packedMatMul, type PackedWeight } from "@llamats/core";
import type { LinearLayer } from "./linear.js";

/**
 * A frozen projection whose weight [out, in] stays packed (bf16, int8 or nf4) on the backend: x·Wᵀ (+ b) runs core's
 * packed matmul, which unpacks inside the kernel. Gradients reach x (and a bias), never the weight. LoRA wraps it
 * like any LinearLayer.
 */
export class PackedLinear implements LinearLayer {
  readonly inFeatures: number;
  readonly outFeatures: number;

  constructor(
    public readonly packed: PackedWeight,
    public readonly bias: tf.Variable | null = null,
  ) {
    this.inFeatures = packed.inFeatures;
    this.outFeatures = packed.outFeatures;
  }

  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const y = packedMatMul(x, this.packed);
      return this.bias ? tf.add(y, this.bias) : y;
    });
  }

  variables(): tf.Variable[] {
    return this.bias ? [this.bias] : [];
  }

  /** Frees the packed tensors (the bias is a model parameter, freed with the model). */
  dispose(): void {
    disposePackedWeight(this.packed);
  }
}

/** True for a PackedLinear, even from a second copy of this package. */
export function isPackedLinear(layer: LinearLayer): layer is PackedLinear {
  return layer instanceof PackedLinear || (layer.constructor?.name === "PackedLinear" && "packed" in layer);
}
