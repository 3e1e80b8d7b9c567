import * as tf from "@tensorflow/tfjs-core";
import { disposePackedWeight, packedMatMul, unpackWeightTensor, type PackedWeight } from "@llamats/core";
import { Linear, type LinearLayer } from "./linear.js";

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

  /** x·Wᵀ + addend with the addend added in the packed kernel (a residual); with a bias, a separate add. */
  applyAdd(x: tf.Tensor, addend: tf.Tensor): tf.Tensor {
    if (this.bias) return tf.tidy(() => tf.add(this.apply(x), addend));
    return packedMatMul(x, this.packed, { addend });
  }

  /**
   * x [n, in] → [n, out] for generation, without a tidy scope: int8 weights take llama.cpp's q8_0 × q8_0 path (x
   * quantized per 32-block, integer dot products) on cpu and wasm.
   */
  applyNoGrad(x: tf.Tensor2D): tf.Tensor2D {
    const y = packedMatMul(x, this.packed, { quantizeActivations: true }) as tf.Tensor2D;
    if (!this.bias) return y;
    const withBias = tf.add<tf.Tensor2D>(y, this.bias);
    y.dispose();
    return withBias;
  }

  variables(): tf.Variable[] {
    return this.bias ? [this.bias] : [];
  }

  /**
   * A float32 Linear holding the dequantized weight (a new frozen variable; the bias is shared): what merging an
   * adapter into this layer writes into, as PEFT dequantizes a 4-bit base to merge.
   */
  toDense(): Linear {
    const values = unpackWeightTensor(this.packed);
    const weight = tf.variable(values, false);
    values.dispose();
    return new Linear(weight, this.bias);
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
