import * as tf from '@tensorflow/tfjs-core';
import { TransposedWeight, denseMatMul } from './dense.js';

/** Anything that maps x [..., inFeatures] to [..., outFeatures]; the model calls these through getLinear. */
export interface LinearLayer {
  readonly inFeatures: number;
  readonly outFeatures: number;
  apply(x: tf.Tensor): tf.Tensor;
  /**
   * Optional: the variables this layer reads (weights, adapters). Gradient checkpointing uses it to route
   * gradients; without it the layer's own tf.Variable properties are found by walking the object.
   */
  variables?(): tf.Variable[];
}

/** x·Wᵀ (+ b) for x [..., in] with W in HF layout [out, in]; `weightT` is an optional cached Wᵀ. */
export function linearApply(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor | null, weightT: tf.Tensor2D | null = null): tf.Tensor {
  return tf.tidy(() => {
    const inFeatures = weight.shape[1]!;
    const outFeatures = weight.shape[0]!;
    const lead = x.shape.slice(0, -1);
    const x2d = (x.rank === 2 ? x : tf.reshape(x, [-1, inFeatures])) as tf.Tensor2D;
    const y = denseMatMul(x2d, weight as tf.Tensor2D, weightT);
    const withBias = bias ? tf.add(y, bias) : y;
    return x.rank === 2 ? withBias : tf.reshape(withBias, [...lead, outFeatures]);
  });
}

/** A dense layer holding HF-layout variables: weight [out, in], optional bias [out]. */
export class Linear implements LinearLayer {
  readonly inFeatures: number;
  readonly outFeatures: number;
  private readonly transposed: TransposedWeight;

  constructor(
    public readonly weight: tf.Variable,
    public readonly bias: tf.Variable | null = null,
  ) {
    if (weight.rank !== 2) throw new Error(`Linear weight must be 2-D [out, in], got shape [${weight.shape.join(', ')}].`);
    this.outFeatures = weight.shape[0]!;
    this.inFeatures = weight.shape[1]!;
    this.transposed = new TransposedWeight(weight as tf.Variable<tf.Rank.R2>);
  }

  apply(x: tf.Tensor): tf.Tensor {
    return linearApply(x, this.weight, this.bias, this.transposed.get());
  }

  /** x [n, in] → [n, out] without gradient bookkeeping: the generation path. */
  applyNoGrad(x: tf.Tensor2D): tf.Tensor2D {
    const weightT = this.transposed.get();
    const y: tf.Tensor2D = weightT ? tf.matMul(x, weightT) : tf.matMul(x, this.weight as tf.Tensor2D, false, true);
    return this.bias ? (tf.add(y, this.bias) as tf.Tensor2D) : y;
  }

  variables(): tf.Variable[] {
    return this.bias ? [this.weight, this.bias] : [this.weight];
  }

  /** Builds backend-side helpers (the cached transpose under wasm) ahead of the first call. */
  prepare(): void {
    this.transposed.get();
  }

  /** Frees backend-side helpers (the cached transpose); the variables belong to the model. */
  disposeCaches(): void {
    this.transposed.dispose();
  }
}

/** True for our own Linear, even from a second copy of this package. */
export function isPlainLinear(layer: LinearLayer): layer is Linear {
  return layer instanceof Linear || (layer.constructor?.name === 'Linear' && 'weight' in layer);
}
