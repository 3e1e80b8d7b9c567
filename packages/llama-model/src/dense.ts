import * as tf from '@tensorflow/tfjs-core';
import { wasmKernelsInstalled } from '@llamats/core';

/**
 * Keeps Wᵀ [in, out] of an HF-layout weight W [out, in] for backends whose fast matmul needs it:
 * tfjs-wasm sends only untransposed, unbatched operands to XNNPACK (which caches the packed weights
 * per tensor) and runs everything else through a slow loop. Not needed (and not kept) when llamats' own
 * kernels replace tfjs-wasm's matmul: they read W as it is. Refreshed when W is assigned (new dataId).
 */
export class TransposedWeight {
  private dataId: object | null = null;
  private transposed: tf.Tensor2D | null = null;

  constructor(private readonly weight: tf.Tensor2D) {}

  /** Wᵀ on backends that want it, else null (they handle transposeB natively). */
  get(): tf.Tensor2D | null {
    if (tf.getBackend() !== 'wasm' || wasmKernelsInstalled()) {
      this.dispose();
      return null;
    }
    const dataId = this.weight.dataId as object;
    if (this.transposed === null || this.dataId !== dataId) {
      this.transposed?.dispose();
      this.transposed = tf.keep(tf.tidy(() => tf.transpose(this.weight)));
      this.dataId = dataId;
    }
    return this.transposed;
  }

  dispose(): void {
    this.transposed?.dispose();
    this.transposed = null;
    this.dataId = null;
  }
}

function plainMatMul(x: tf.Tensor2D, weight: tf.Tensor2D, weightT: tf.Tensor2D | null): tf.Tensor2D {
  return weightT ? tf.matMul(x, weightT) : tf.matMul(x, weight, false, true);
}

/**
 * x [n, in] · Wᵀ → [n, out] with gradients written as untransposed matmuls (dX = dY·W, dW = dYᵀ·X),
 * so the backward pass also runs on XNNPACK under wasm. dW is computed only for a trainable variable.
 */
export function denseMatMul(x: tf.Tensor2D, weight: tf.Tensor2D, weightT: tf.Tensor2D | null): tf.Tensor2D {
  const weightNeedsGrad = !(weight instanceof tf.Variable) || weight.trainable;
  if (weightNeedsGrad) {
    const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [input, w] = args as [tf.Tensor2D, tf.Tensor2D];
      const save = args[2] as tf.GradSaveFunc;
      save([input, w]);
      return {
        value: plainMatMul(input, w, weightT),
        gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
          const g = (Array.isArray(dy) ? dy[0] : dy) as tf.Tensor2D;
          const [savedX, savedW] = saved as [tf.Tensor2D, tf.Tensor2D];
          return [tf.matMul(g, savedW), tf.matMul(tf.transpose(g), savedX)];
        },
      };
    });
    return op(x, weight) as tf.Tensor2D;
  }
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor2D;
    return {
      value: plainMatMul(input, weight, weightT),
      gradFunc: (dy: tf.Tensor | tf.Tensor[]) => [tf.matMul((Array.isArray(dy) ? dy[0] : dy) as tf.Tensor2D, weight)],
    };
  });
  return op(x) as tf.Tensor2D;
}
