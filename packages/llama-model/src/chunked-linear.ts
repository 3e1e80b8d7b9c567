import * as tf from "@tensorflow/tfjs-core";
import { Linear, type LinearLayer } from "./linear.js";

/**
 * A bias-free linear layer whose weight [out, in] is held as row chunks along `out` (the vocabulary of
 * lm_head), each small enough to bind on WebGPU: y = concat of the per-chunk products along the last axis.
 */
export class ChunkedLinear implements LinearLayer {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** One plain Linear per chunk, in row order. */
  readonly parts: readonly Linear[];

  constructor(weights: readonly tf.Variable[]) {
    this.parts = weights.map((w) => new Linear(w));
    this.inFeatures = this.parts[0].inFeatures;
    this.outFeatures = this.parts.reduce((sum, p) => sum + p.outFeatures, 0);
  }

  /** The chunk weights, in row order. */
  get weights(): tf.Variable[] {
    return this.parts.map((p) => p.weight);
  }

  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() =>
      tf.concat(
        this.parts.map((p) => p.apply(x)),
        -1,
      ),
    );
  }

  /** x [n, in] → [n, out] without gradient bookkeeping: the generation path. */
  applyNoGrad(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() =>
      tf.concat(
        this.parts.map((p) => p.applyNoGrad(x)),
        1,
      ),
    );
  }

  variables(): tf.Variable[] {
    return this.weights;
  }

  /**
   * Adds a delta to the weight chunk by chunk (merging a LoRA adapter): `deltaRows(start, rows)` gives rows
   * [start, start + rows) of the delta [out, in], so no tensor bigger than a chunk is ever built.
   */
  addToWeight(deltaRows: (start: number, rows: number) => tf.Tensor2D): void {
    let start = 0;
    for (const part of this.parts) {
      const rows = part.outFeatures;
      tf.tidy(() => part.weight.assign(tf.add(part.weight, deltaRows(start, rows))));
      start += rows;
    }
  }
}
