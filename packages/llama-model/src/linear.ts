import * as tf from "@tensorflow/tfjs-core";
import { matMul } from "@llamats/core";
import { denseMatMul } from "./dense.js";

/** Anything that maps x [..., inFeatures] to [..., outFeatures]; the model calls these through getLinear. */
export interface LinearLayer {
  readonly inFeatures: number;
  readonly outFeatures: number;
  apply(x: tf.Tensor): tf.Tensor;
  /**
   * Optional: apply(x) + addend (addend of the output's shape), the sum made inside the layer's own kernel where it
   * can (the decoder layer's residual connections). `applyPlus` falls back to an add for layers without it.
   */
  applyAdd?(x: tf.Tensor, addend: tf.Tensor): tf.Tensor;
  /**
   * Optional: the variables this layer reads (weights, adapters). Gradient checkpointing uses it to route
   * gradients; without it the layer's own tf.Variable properties are found by walking the object.
   */
  variables?(): tf.Variable[];
}

/** layer(x) + addend: in the layer's kernel when it offers applyAdd, else a separate add. */
export function applyPlus(layer: LinearLayer, x: tf.Tensor, addend: tf.Tensor): tf.Tensor {
  return layer.applyAdd ? layer.applyAdd(x, addend) : tf.tidy(() => tf.add(layer.apply(x), addend));
}

/**
 * x·Wᵀ (+ b) (+ addend) for x [..., in] with W in HF layout [out, in] (gradients as denseMatMul writes them); without
 * a bias the addend is added as the product is stored.
 */
export function linearApply(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor | null, addend?: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const inFeatures = weight.shape[1]!;
    const outFeatures = weight.shape[0];
    const lead = x.shape.slice(0, -1);
    const x2d = (x.rank === 2 ? x : tf.reshape(x, [-1, inFeatures])) as tf.Tensor2D;
    const fused = addend && !bias ? tf.reshape(addend, [-1, outFeatures]) : undefined;
    // A frozen weight (LoRA's base) needs no gradient: the backward pass then keeps the weight, not x, alive.
    const constantB = weight instanceof tf.Variable && !weight.trainable;
    const y = matMul(x2d, weight, { transposeB: true, constantB, ...(fused ? { addend: fused } : {}) });
    const withBias = bias ? tf.add(y, bias) : y;
    const out = x.rank === 2 ? withBias : tf.reshape(withBias, [...lead, outFeatures]);
    return addend && !fused ? tf.add(out, addend) : out;
  });
}

/** A dense layer holding HF-layout variables: weight [out, in], optional bias [out]. */
export class Linear implements LinearLayer {
  readonly inFeatures: number;
  readonly outFeatures: number;

  constructor(
    public readonly weight: tf.Variable,
    public readonly bias: tf.Variable | null = null,
  ) {
    if (weight.rank !== 2)
      throw new Error(`Linear weight must be 2-D [out, in], got shape [${weight.shape.join(", ")}].`);
    this.outFeatures = weight.shape[0]!;
    this.inFeatures = weight.shape[1]!;
  }

  apply(x: tf.Tensor): tf.Tensor {
    return linearApply(x, this.weight, this.bias);
  }

  applyAdd(x: tf.Tensor, addend: tf.Tensor): tf.Tensor {
    return linearApply(x, this.weight, this.bias, addend);
  }

  /** x [n, in] → [n, out] without a tidy scope or reshapes: the generation path. */
  applyNoGrad(x: tf.Tensor2D): tf.Tensor2D {
    const y = denseMatMul(x, this.weight as tf.Tensor2D);
    return this.bias ? tf.add<tf.Tensor2D>(y, this.bias) : y;
  }

  variables(): tf.Variable[] {
    return this.bias ? [this.weight, this.bias] : [this.weight];
  }

  /** Nothing to build: kept for callers (ChunkedLinear) from when wasm needed a cached Wᵀ. */
  prepare(): void {}

  /** Nothing to free: the variables belong to the model. */
  disposeCaches(): void {}
}

/** True for our own Linear, even from a second copy of this package. */
export function isPlainLinear(layer: LinearLayer): layer is Linear {
  return layer instanceof Linear || (layer.constructor?.name === "Linear" && "weight" in layer);
}
