import * as tf from '@tensorflow/tfjs-core';
import { wasmKernelsInstalled } from '@llamats/core';

/** tfjs-backend-wasm's own matmul is fastest on [in, out]; llamats' kernels and other backends read [out, in]. */
function wantTransposed(): boolean {
  return tf.getBackend() === 'wasm' && !wasmKernelsInstalled();
}

/**
 * Several HF-layout weights [out_i, in] concatenated into one projection, so a decode step runs one
 * matmul for q,k,v (or gate,up) instead of three. Stored as [in, Σout] under wasm (the layout its fast
 * matmul takes) and as [Σout, in] elsewhere; rebuilt when any part is assigned (its dataId changes).
 */
export class FusedWeight {
  private dataIds: object[] = [];
  private fused: tf.Tensor2D | null = null;
  private transposed = false;

  constructor(private readonly parts: readonly tf.Tensor2D[]) {}

  /** True when every part is still the tensor this fusion was built from (and data was not reassigned). */
  private fresh(): boolean {
    return this.fused !== null && this.transposed === wantTransposed() && this.parts.every((p, i) => p.dataId === this.dataIds[i]);
  }

  /** x [n, in] → [n, Σout]. */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    if (!this.fresh()) this.rebuild();
    return this.transposed ? tf.matMul(x, this.fused!) : tf.matMul(x, this.fused!, false, true);
  }

  /** The fused weight in HF layout [Σout, in]; null while it is held transposed. */
  hfLayout(): tf.Tensor2D | null {
    if (!this.fresh()) this.rebuild();
    return this.transposed ? null : this.fused;
  }

  rebuild(): void {
    this.fused?.dispose();
    this.transposed = wantTransposed();
    this.fused = tf.keep(
      tf.tidy(() => {
        const joined = this.parts.length === 1 ? tf.clone(this.parts[0]) : tf.concat(this.parts as tf.Tensor2D[], 0);
        return this.transposed ? tf.transpose(joined) : joined;
      }),
    );
    this.dataIds = this.parts.map((p) => p.dataId as object);
  }

  dispose(): void {
    this.fused?.dispose();
    this.fused = null;
  }
}
